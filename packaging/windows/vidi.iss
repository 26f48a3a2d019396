; Inno Setup 6 script for Vidi (Windows x64). Built by packaging\windows\build.ps1, which first makes the app folder
; with PyInstaller and then runs:
;   ISCC.exe /DAppVersion=0.1.0 /DFlavour=cuda /DAppDir=<repo>\build\windows-cuda\dist\vidi packaging\windows\vidi.iss
; Result: dist\vidi-<version>-windows-x64-<flavour>-setup.exe (the CUDA flavour also writes
; ...-setup-1.bin, -2.bin, ...: keep them next to the .exe; see DiskSpanning below).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef Flavour
  #define Flavour "cpu"
#endif
#ifndef AppDir
  #define AppDir "..\..\build\windows-" + Flavour + "\dist\vidi"
#endif

[Setup]
; One AppId for both flavours: installing one replaces the other.
AppId={{5B0C7F1E-3D2A-4C55-9C1B-6E0F8A1D2B47}
AppName=Vidi
AppVersion={#AppVersion}
AppVerName=Vidi {#AppVersion} ({#Flavour})
AppPublisher=The Vidi developers
DefaultDirName={autopf}\Vidi
DisableProgramGroupPage=yes
; Per-user install by default (no administrator needed); the user may choose all users in a dialog.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=vidi-{#AppVersion}-windows-x64-{#Flavour}-setup
SetupIconFile=..\..\build\icons\vidi.ico
UninstallDisplayIcon={app}\vidi.exe
UninstallDisplayName=Vidi ({#Flavour})
WizardStyle=modern
ChangesAssociations=yes
Compression=lzma2/normal
SolidCompression=yes
LZMANumBlockThreads=4
#if Flavour == "cuda"
; torch with CUDA is several GB: Setup.exe cannot hold more than about 4.2 GB compressed, so the data goes into
; Setup-N.bin slices next to it, each under 2 GB (the size limit of a GitHub release asset).
DiskSpanning=yes
DiskSliceSize=2000000000
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; A previous version's (or the other flavour's) bundled libraries must not stay behind.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#AppDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Vidi"; Filename: "{app}\vidi.exe"
Name: "{autodesktop}\Vidi"; Filename: "{app}\vidi.exe"; Tasks: desktopicon

[Registry]
; "Open with > Vidi" for video and image files, without taking over any file type's default program.
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "Vidi"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\vidi.exe,0"
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\vidi.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".mp4"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".m4v"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".mkv"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".webm"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".mov"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".avi"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\vidi.exe\SupportedTypes"; ValueType: string; ValueName: ".webp"; ValueData: ""

[Run]
Filename: "{app}\vidi.exe"; Description: "{cm:LaunchProgram,Vidi}"; Flags: nowait postinstall skipifsilent
