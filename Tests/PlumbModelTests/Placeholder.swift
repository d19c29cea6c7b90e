// PlumbModelTests: tests land with the library.
