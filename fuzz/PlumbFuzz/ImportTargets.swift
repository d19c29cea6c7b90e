// Targets over whole imports: annotation-tool exports (Label Studio, Argilla) and any record file
// (detected, and forced through the OpenAssistant tree and message-table readers).
import Foundation
import PlumbData

enum ImportTargets {
    /// A Label Studio export. An input that starts with "<View" holds a labelling config first,
    /// ended by a NUL byte, then the export.
    static func labelStudio(_ input: UnsafeRawBufferPointer) {
        var options = ImportOptions()
        var export = input
        if input.starts(with: Array("<View".utf8)), let nul = input.firstIndex(of: 0) {
            options.labelConfig = String(decoding: UnsafeRawBufferPointer(rebasing: input[..<nul]), as: UTF8.self)
            export = UnsafeRawBufferPointer(rebasing: input[(nul + 1)...])
        }
        let url = Scratch.file("export.json", export)
        importChecked(url, format: .labelStudio, options: options)
    }

    /// An Argilla export, detected (v1/v2 records, Hugging Face export, the study's files) and forced.
    static func argilla(_ input: UnsafeRawBufferPointer) {
        let url = Scratch.file("argilla.json", input)
        importChecked(url, format: nil, options: ImportOptions())
        importChecked(url, format: .argilla, options: ImportOptions())
    }

    /// Any record file, detected, then read as an OpenAssistant tree (over its bytes, `ShallowJSON`)
    /// and as a flat message table (grouped rows, parent links that may loop).
    static func records(_ input: UnsafeRawBufferPointer) {
        let url = Scratch.file("records.jsonl", input)
        importChecked(url, format: nil, options: ImportOptions())
        importChecked(url, format: .openAssistant, options: ImportOptions())
        importChecked(url, format: .openAssistantMessages, options: ImportOptions())
    }

    /// Imports; errors are fine, unbalanced counts are not.
    private static func importChecked(_ url: URL, format: ImportFormat?, options: ImportOptions) {
        guard let result = try? Importer(options: options).importFiles([url.path], format: format) else { return }
        for source in result.sources { precondition(source.isBalanced, "counts do not add up: \(source)") }
    }
}
