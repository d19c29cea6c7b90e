// PlumbStore's file primitives (`PosixFile`, `AtomicFile`, `FileError`) live in PlumbFiles, which
// PlumbModel shares; they are re-exported so an importer of PlumbStore sees them as before.
@_exported import PlumbFiles
