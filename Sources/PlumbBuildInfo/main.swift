// The build-time tool behind Plugins/EmbedBuildInfo: writes a Swift source holding what the `plumb`
// binary must carry instead of reading it beside itself at run time: the SHA-256 of the source tree
// it is built from (SourceTree.hash, the same function CodeVersion probes with), that tree's git
// commit and dirty flag when git can tell, and the text of every built-in pipeline file.
//   PlumbBuildInfo PACKAGE_ROOT OUTPUT.swift
import Foundation
import PlumbFiles

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: PlumbBuildInfo PACKAGE_ROOT OUTPUT.swift\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[1])
let output = URL(fileURLWithPath: arguments[2])

/// `text` as a Swift string literal.
func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7f {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

do {
    let hash = try SourceTree.hash(root)
    let git = Git.commit(in: root)
    let commit = git?.commit, dirty = git?.dirty
    let pipelines = root.appendingPathComponent("pipelines")
    let names = try FileManager.default.contentsOfDirectory(atPath: pipelines.path).filter { $0.hasSuffix(".yaml") }.sorted()
    var source = """
    // Generated at build time by PlumbBuildInfo (Plugins/EmbedBuildInfo); not in the repository.
    enum BuildInfo {
        /// SHA-256 of Package.swift and Sources/ (SourceTree.hash) of the tree this binary was built from.
        static let sourceTreeHash = \(literal(hash))
        /// That tree's git commit and dirty flag at build time (nil where git could not tell).
        static let commit: String? = \(commit.map(literal) ?? "nil")
        static let dirty: Bool? = \(dirty.map { String($0) } ?? "nil")
        /// The built-in pipeline files (pipelines/*.yaml), by file name.
        static let pipelines: [String: String] = [

    """
    for name in names {
        let text = try String(contentsOf: pipelines.appendingPathComponent(name), encoding: .utf8)
        source += "        \(literal(name)): \(literal(text)),\n"
    }
    source += "    ]\n}\n"
    let existing = try? String(contentsOf: output, encoding: .utf8)
    if existing != source { try source.write(to: output, atomically: true, encoding: .utf8) }
} catch {
    FileHandle.standardError.write(Data("PlumbBuildInfo: \(error)\n".utf8))
    exit(1)
}
