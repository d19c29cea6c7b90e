// PlumbDataTests: tests land with the library.
