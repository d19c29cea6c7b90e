// The commands: `plumb tokenizer train` makes a model (STAGE/spm.model) that libsentencepiece's own spm_encode
// reads and encodes identically; `plumb import` writes shards, quarantine and manifest.
import PlumbStore
import PlumbTestSupport
import XCTest
@testable import PlumbCLI
@testable import PlumbData

final class DataCommandTests: XCTestCase {
    func testTokenizerTrainCommandModelIsReadBySpmEncode() throws {
        let corpus = try SmallCorpus.shared.get()
        let directory = try scratchDirectory(self)
        let prefix = directory.appendingPathComponent("cli").path
        for (type, vocab) in [("bpe", "520"), ("unigram", "480")] {
            let command = try TokenizerTrainCommand.parse(["--input", corpus, "--out", prefix + type, "--model-type", type,
                                                           "--vocab-size", vocab, "--special", "<|user|>", "--special", "<|assistant|>"])
            try command.run()
            let model = prefix + type + "/spm.model"
            let tokenizer = try Tokenizer(modelFile: model)
            XCTAssertEqual(tokenizer.vocabSize, Int(vocab))
            XCTAssertNotNil(tokenizer.id(ofPiece: "<|assistant|>"))
            guard let spmEncode = which("spm_encode") else { throw XCTSkip("spm_encode is not installed") }
            let lines = ["<|user|>How do I take care of a wooden table?<|assistant|>Oil it twice a year.", "Zürich, 8 °C — naïve café ✓", "  two  spaces  "]
            let (status, output) = try runTool(spmEncode, ["--model=\(model)", "--output_format=id"], stdin: lines.joined(separator: "\n") + "\n")
            XCTAssertEqual(status, 0)
            let reference = output.split(separator: "\n").map(String.init)
            XCTAssertEqual(try lines.map { try tokenizer.encode($0).map(String.init).joined(separator: " ") }, reference, type)
        }
    }

    func testTokenizerTrainFromRecordShards() throws {
        let runs = try scratchDirectory(self)
        let stage = runs.appendingPathComponent("r").appendingPathComponent("import")
        let importCommand = try ImportCommand.parse([try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl"), "--out", stage.path])
        try importCommand.run()
        let prefix = runs.appendingPathComponent("fromshards").path
        let train = try TokenizerTrainCommand.parse(["--records", stage.path, "--out", prefix, "--vocab-size", "400"])
        try train.run()
        let tokenizer = try Tokenizer(modelFile: prefix + "/spm.model")
        XCTAssertEqual(tokenizer.vocabSize, 400)
        XCTAssertEqual(try tokenizer.decode(try tokenizer.encode("cyberattack on a financial institution")), "cyberattack on a financial institution")
    }

    func testImportCommandWritesStage() throws {
        let runs = try scratchDirectory(self)
        let stage = runs.appendingPathComponent("2026-11").appendingPathComponent("import")
        let trl = runs.appendingPathComponent("export.jsonl").path
        let command = try ImportCommand.parse([try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz"), "--out", stage.path,
                                               "--format", "hh-rlhf", "--export-trl", trl])
        try command.run()
        let manifest = try StageManifest.read(from: stage)
        XCTAssertEqual(manifest.status, .complete)
        XCTAssertEqual(manifest.metrics["records_read"], 1500)
        XCTAssertEqual(manifest.metrics["accepted"], 1495)
        XCTAssertEqual(manifest.metrics["quarantined.conversations_diverge"], 1)
        XCTAssertEqual(manifest.outputs.first { $0.name == "quarantine" }?.records, 5)
        let comparisons = manifest.outputs.filter { $0.name.hasPrefix("comparisons-") }.reduce(0) { $0 + $1.records }
        XCTAssertEqual(comparisons, 1495)
        let reader = try ShardReader(path: stage, output: "quarantine", options: .init(expectedSchema: "quarantine/1"))
        var lines: [Int] = []
        while let entry = try reader.next(QuarantineEntry.self) { lines.append(entry.source.line) }
        XCTAssertEqual(lines.sorted(), [87, 517, 926, 1104, 1255])
        XCTAssertEqual(try String(contentsOfFile: trl, encoding: .utf8).split(separator: "\n").count, 1495)
        XCTAssertThrowsError(try ImportCommand.parse(["x.jsonl", "--out", "o", "--format", "no-such-format"]).run())
    }

    func testImportCommandCSVColumnsOption() throws {
        let runs = try scratchDirectory(self)
        let csv = try writeFile(runs, "prefs.csv.txt", "q,good,bad,dim\nIs fire hot?,Yes.,No.,safety\n")
        let stage = runs.appendingPathComponent("r").appendingPathComponent("csv")
        let command = try ImportCommand.parse([csv, "--format", "csv", "--columns", "prompt=q,chosen=good,rejected=bad,dimension=dim",
                                               "--out", stage.path, "--test-fraction", "0", "--validation-fraction", "0"])
        try command.run()
        let reader = try ShardReader(path: stage, output: "comparisons-train")
        let comparison = try XCTUnwrap(try reader.next(Comparison.self))
        XCTAssertEqual(comparison.dimension, .safety)
        XCTAssertEqual([comparison.chosen, comparison.rejected], ["Yes.", "No."])
        XCTAssertThrowsError(try ImportCommand.parse([csv, "--columns", "prompt", "--out", stage.path]).run())
    }
}
