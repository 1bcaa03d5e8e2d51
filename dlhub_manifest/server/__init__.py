"""The registry over HTTP: the Starlette app, resumable uploads, authentication, uvicorn runner."""
