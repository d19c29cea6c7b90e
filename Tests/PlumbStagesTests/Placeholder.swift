// PlumbStagesTests: tests land with the library.
