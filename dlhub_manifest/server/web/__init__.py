"""The registry's web pages: server-rendered HTML over the same `RegistryService` as the JSON API."""
