// Commands whose work is a library's, tested through their flags: `plumb export gguf` (a llama2.c
// checkpoint as GGUF with its Modelfile, refused over existing files without --force and for a tokenizer
// GGUF's llama model cannot describe), `plumb dpo --mix` refusing bad components before any work,
// and `plumb eval sample-scores` refusing bad --model specs.
import Foundation
import PlumbModel
import PlumbStages
import PlumbTestSupport
import XCTest
@testable import PlumbCLI

final class LibraryCommandTests: XCTestCase {
    /// `plumb export gguf` on stories260K: the file reads back with the tokenizer keys and a Modelfile
    /// beside it; an existing output is refused without --force; a non-SentencePiece tokenizer is
    /// refused naming the GGUF tokenizer model it would need.
    func testExportCommand() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-gguf-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("s.gguf")
        let arguments = [try sharedData("llama2c/stories260K.bin"), "--tokenizer", try sharedData("llama2c/tok512.bin"),
                         "--type", "q8_0", "--out", out.path]
        try ExportGGUFCommand.parse(arguments).run()
        let file = try GGUFReader.read(out)
        XCTAssertEqual(file["tokenizer.ggml.model"]?.textValue, "llama")
        guard case .stringArray(let tokens)? = file["tokenizer.ggml.tokens"] else { return XCTFail("no tokens") }
        XCTAssertEqual(tokens.count, 512)
        XCTAssertTrue(tokens.contains(Array("\u{2581}Lily".utf8)), "spaces spelled as SentencePiece's U+2581")
        XCTAssertEqual(file["general.file_type"]?.intValue, 7)
        let modelfile = try String(contentsOf: directory.appendingPathComponent("s.Modelfile"), encoding: .utf8)
        XCTAssertTrue(modelfile.contains("FROM ./s.gguf") && modelfile.contains("PARAMETER stop \"</s>\""), modelfile)
        XCTAssertThrowsError(try ExportGGUFCommand.parse(arguments).run()) { XCTAssertTrue("\($0)".contains("--force"), "\($0)") }
        try ExportGGUFCommand.parse(arguments + ["--force"]).run()
        let json = directory.appendingPathComponent("tokenizer.json")
        try Data(#"{"model": {"type": "BPE", "vocab": {}}}"#.utf8).write(to: json)
        XCTAssertThrowsError(try ExportGGUFCommand.parse([arguments[0], "--tokenizer", json.path, "--out", directory.appendingPathComponent("t.gguf").path]).run()) {
            XCTAssertTrue("\($0)".contains("\"gpt2\""), "\($0)")
        }
    }

    func testBadMixComponentsAreRefusedNamingTheOptionAndValue() throws {
        // The command line refuses them before any work, naming the option and value.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-dpo-mix-\(getpid())/r/dpo")
        for bad in ["import-a=-1", "import-a=abc", "import-x=1"] {
            var command = try PlumbCommand.parseAsRoot(["dpo", "--tokenizer", "t", "--init-from", "p", "--data", "import-a",
                                                        "--mix", bad, "--out", out.path])
            XCTAssertThrowsError(try command.run()) { error in
                XCTAssertTrue(PlumbCommand.message(for: error).contains("--mix \(bad)"), PlumbCommand.message(for: error))
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing is written")
        }
    }

    func testBadModelSpecIsRefused() {
        for spec in ["noequals", "=dir", "name="] {
            XCTAssertThrowsError(try PlumbCommand.parseAsRoot(["eval", "sample-scores", "--samples", "x", "--tokenizer", "t",
                                                               "--model", spec, "--out", "o"]), spec)
        }
        XCTAssertThrowsError(try PlumbCommand.parseAsRoot(["eval", "sample-scores", "--samples", "x", "--model", "a=b", "--out", "o"]),
                             "--model without --tokenizer")
    }
}
