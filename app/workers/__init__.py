"""Background jobs: arq functions that call services, and the one way to enqueue them."""
