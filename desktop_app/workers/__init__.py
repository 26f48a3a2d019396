"""Background QThread workers. inference_worker is the one bridge to core_model's backends."""
