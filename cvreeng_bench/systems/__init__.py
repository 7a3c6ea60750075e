"""The systems: the reference baselines and the chat-model runner (prompts, answer parsing, response cache,
transport). They read tasks and inputs from the scorer and hand back prediction frames and run records."""
