<#
.SYNOPSIS
    Builds Vidi's Windows installer: the one-folder app (PyInstaller) and an Inno Setup installer of it.

.DESCRIPTION
    Run from any folder, in PowerShell 5.1 or 7, on Windows x64 with Python 3.11 and Inno Setup 6:

        powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 -Flavour cpu
        powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 -Flavour cuda

    -Flavour cpu    torch from the PyTorch CPU wheel index (the smaller installer)
    -Flavour cuda   torch from the PyTorch CUDA 13.0 wheel index (cu130; the CUDA DLLs are inside torch\lib)
    -Venv DIR       use this Python environment as it is instead of making build\windows-FLAVOUR\venv
    -SkipPyInstaller  reuse build\windows-FLAVOUR\dist\vidi
    -Iscc PATH      ISCC.exe (default: on PATH, or Inno Setup 6's usual install folders)

    Results:
        build\windows-FLAVOUR\dist\vidi\        vidi.exe (windowed), vidi-console.exe (CLI, --self-test), _internal\
        dist\vidi-VERSION-windows-x64-FLAVOUR-setup.exe   (cuda: plus -setup-N.bin slices, keep them together)
#>
param(
    [ValidateSet("cpu", "cuda")] [string] $Flavour = "cuda",
    [string] $Venv = "",
    [switch] $SkipPyInstaller,
    [string] $Iscc = ""
)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$Root = (Get-Location).Path

function Invoke-Checked {
    param([string] $Exe, [Parameter(ValueFromRemainingArguments = $true)] $Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $Arguments failed with exit code $LASTEXITCODE" }
}
function Get-Pin([string] $Name) {  # e.g. torch==2.14.1, as pyproject.toml pins it
    (Select-String -Path pyproject.toml -Pattern "`"($Name==[^`"]+)`"").Matches[0].Groups[1].Value
}

$Lock = "$Root\packaging\requirements.lock"  # the exact versions of every package (packaging/dev/lock.sh)
$Version = (Select-String -Path core_model\__init__.py -Pattern '__version__ = "(.*)"').Matches[0].Groups[1].Value
$Build = "build\windows-$Flavour"
$App = "$Build\dist\vidi"
New-Item -ItemType Directory -Force -Path $Build, dist | Out-Null

# ---- build environment ----------------------------------------------------------------------------------------
if (-not $Venv) {
    $Venv = "$Build\venv"
    if (-not (Test-Path "$Venv\Scripts\python.exe")) {
        Invoke-Checked python -m venv $Venv  # python: 3.11 on PATH (actions/setup-python in CI)
        $Py = "$Venv\Scripts\python.exe"
        Invoke-Checked $Py -m pip install -q --upgrade pip
        $Index = if ($Flavour -eq "cuda") { "https://download.pytorch.org/whl/cu130" } else { "https://download.pytorch.org/whl/cpu" }
        Invoke-Checked $Py -m pip install -q (Get-Pin torch) (Get-Pin torchvision) (Get-Pin torchaudio) -c $Lock --index-url $Index
        Invoke-Checked $Py -m pip install -q "$Root[packaging]" -c $Lock
    }
}
$Py = "$Venv\Scripts\python.exe"
& $Py -c "import PyInstaller" 2>$null
if ($LASTEXITCODE -ne 0) { Invoke-Checked $Py -m pip install -q pyinstaller -c $Lock }

# ---- the app folder -------------------------------------------------------------------------------------------
Invoke-Checked $Py packaging\pyinstaller\make_icons.py build\icons
if (-not $SkipPyInstaller) {
    $env:VIDI_FLAVOUR = $Flavour
    $env:VIDI_ICON_DIR = "$Root\build\icons"
    $Watch = [Diagnostics.Stopwatch]::StartNew()
    Invoke-Checked $Py -m PyInstaller --noconfirm --log-level WARN --distpath "$Build\dist" --workpath "$Build\work" `
        packaging\pyinstaller\vidi.spec
    Write-Host "build.ps1: PyInstaller took $([int]$Watch.Elapsed.TotalSeconds) s"
}
Invoke-Checked "$App\vidi-console.exe" --self-test

# ---- the installer --------------------------------------------------------------------------------------------
if (-not $Iscc) {
    $Found = Get-Command ISCC.exe -ErrorAction SilentlyContinue
    $Iscc = if ($Found) { $Found.Source } else {
        @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
          "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe") | Where-Object { Test-Path $_ } | Select-Object -First 1
    }
    if (-not $Iscc) { throw "ISCC.exe (Inno Setup 6) not found: install it (winget install JRSoftware.InnoSetup) or pass -Iscc" }
}
Invoke-Checked $Iscc /Qp "/DAppVersion=$Version" "/DFlavour=$Flavour" "/DAppDir=$Root\$App" packaging\windows\vidi.iss

$AppBytes = (Get-ChildItem -Recurse -File $App | Measure-Object -Sum Length).Sum
$Setup = Get-ChildItem "dist\vidi-$Version-windows-x64-$Flavour-setup*"
$SetupBytes = ($Setup | Measure-Object -Sum Length).Sum
Write-Host ("build.ps1: app folder {0:N2} GB; installer {1:N2} GB in {2}" -f ($AppBytes / 1GB), ($SetupBytes / 1GB),
    (($Setup | ForEach-Object Name) -join ", "))
