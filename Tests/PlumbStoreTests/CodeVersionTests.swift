// The code version outside a git checkout: a hash of the source tree's contents that is the same for
// the same sources (wherever and in whatever order they were written) and differs for two dirty
// trees; the cache key follows it.
import Foundation
import XCTest
@testable import PlumbStore

final class CodeVersionTests: XCTestCase {
    /// A package tree at `root` with `files` (relative path -> contents), written in the given order.
    func makeTree(_ root: URL, _ files: [(String, String)]) throws {
        for (path, contents) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
    }

    let files = [("Package.swift", "// swift-tools-version:6.0\n"), ("Sources/A/a.swift", "let a = 1\n"),
                 ("Sources/B/b.swift", "let b = 2\n"), ("Sources/B/Deep/c.swift", "let c = 3\n")]

    func testSameSourcesGiveTheSameHashWhereverAndInAnyOrder() throws {
        let scratch = try makeScratchDirectory(self)
        try makeTree(scratch.appendingPathComponent("one"), files)
        try makeTree(scratch.appendingPathComponent("two/elsewhere"), files.reversed())
        let one = try SourceTree.hash(scratch.appendingPathComponent("one"))
        XCTAssertEqual(one.count, 64)
        XCTAssertEqual(one, try SourceTree.hash(scratch.appendingPathComponent("one")), "stable for the same tree")
        XCTAssertEqual(one, try SourceTree.hash(scratch.appendingPathComponent("two/elsewhere")), "independent of place and order")
        // Hidden files (editor swap files, .DS_Store) and files outside Sources/ do not count.
        try makeTree(scratch.appendingPathComponent("one"), [("Sources/A/.a.swift.swp", "x"), ("README.md", "docs")])
        XCTAssertEqual(one, try SourceTree.hash(scratch.appendingPathComponent("one")))
    }

    func testTwoDirtyTreesDiffer() throws {
        let scratch = try makeScratchDirectory(self)
        let edits: [(String, [(String, String)])] = [
            ("one byte changed", [("Sources/A/a.swift", "let a = 2\n")]),
            ("a file added", [("Sources/A/new.swift", "")]),
            ("Package.swift changed", [("Package.swift", "// swift-tools-version:6.0\n// -Ounchecked\n")]),
        ]
        try makeTree(scratch.appendingPathComponent("base"), files)
        var seen = [try SourceTree.hash(scratch.appendingPathComponent("base"))]
        for (name, edit) in edits {
            let tree = scratch.appendingPathComponent(name.replacingOccurrences(of: " ", with: "-"))
            try makeTree(tree, files)
            try makeTree(tree, edit)
            let hash = try SourceTree.hash(tree)
            XCTAssertFalse(seen.contains(hash), "\(name): \(hash) seen before")
            seen.append(hash)
        }
        // A file moved to another directory with the same contents is another tree.
        let moved = scratch.appendingPathComponent("moved")
        try makeTree(moved, files.map { $0.0 == "Sources/B/b.swift" ? ("Sources/A/b.swift", $0.1) : $0 })
        XCTAssertFalse(seen.contains(try SourceTree.hash(moved)))
        XCTAssertThrowsError(try SourceTree.hash(scratch), "no Package.swift: not a package tree")
    }

    func testATreeEditedAfterTheBuildDoesNotDescribeTheBinary() throws {
        let scratch = try makeScratchDirectory(self)
        try makeTree(scratch.appendingPathComponent("tree"), files)
        let binary = scratch.appendingPathComponent("plumb")
        try Data("binary".utf8).write(to: binary)
        let now = Date()
        try FileManager.default.setAttributes([.modificationDate: now], ofItemAtPath: binary.path)
        for (path, _) in files {
            try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-60)],
                                                  ofItemAtPath: scratch.appendingPathComponent("tree/\(path)").path)
        }
        XCTAssertFalse(CodeVersion.isNewer(scratch.appendingPathComponent("tree"), than: binary), "built after every source")
        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(5)],
                                              ofItemAtPath: scratch.appendingPathComponent("tree/Sources/B/Deep/c.swift").path)
        XCTAssertTrue(CodeVersion.isNewer(scratch.appendingPathComponent("tree"), than: binary), "a source edited after the build")
    }

    func testThisBuildHasAContentVersionAndTheCacheKeyUsesIt() throws {
        let version = CodeVersion.current()
        if ProcessInfo.processInfo.environment["PLUMB_CODE_COMMIT"] == nil {
            let content = try XCTUnwrap(version.content)
            XCTAssertTrue(content.hasPrefix("sources:") || content.hasPrefix("executable:"), content)
            XCTAssertEqual(version, CodeVersion.probe(CodeVersion.packageRoot), "stable across probes of the same tree")
        }
        let config = try JSONValue(encoding: ["epochs": 1])
        let commit = String(repeating: "c", count: 40)
        func key(_ content: String?) throws -> String {
            try CacheKey.compute(kind: "sft", config: config, inputSHA256s: [], code: CodeVersion(commit: commit, dirty: true, content: content))
        }
        XCTAssertNotEqual(try key("sources:1 release"), try key("sources:2 release"), "two dirty trees at one commit")
        XCTAssertNotEqual(try key("sources:1 release"), try key("sources:1 debug"))
        XCTAssertEqual(try key("sources:1 release"),
                       try CacheKey.compute(kind: "sft", config: config, inputSHA256s: [],
                                            code: CodeVersion(commit: nil, dirty: nil, content: "sources:1 release")),
                       "the same sources give the same key at any commit, in or out of git")
    }
}
