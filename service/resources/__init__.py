"""The service's HTTP resources: thin (parse, validate, one domain call, respond)."""
