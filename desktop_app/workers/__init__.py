"""Background QThread workers and child processes. inference_worker is the one bridge to core_model's backends
(inference_client its GUI-thread side; chat_request what crosses between them)."""
