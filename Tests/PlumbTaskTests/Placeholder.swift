// PlumbTaskTests: tests land with the library.
