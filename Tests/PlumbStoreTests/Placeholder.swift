// PlumbStoreTests: tests land with the library.
