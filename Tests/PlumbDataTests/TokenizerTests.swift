// The SentencePiece bridge: training, libsentencepiece's own spm_encode as the reference,
// encode/decode round trips on the real samples, piece/id lookup and special ids.
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class TokenizerTests: XCTestCase {
    func testTrainedModelMatchesSpmEncode() throws {
        let small = try SmallTokenizer.get()
        guard let spmEncode = which("spm_encode") else { throw XCTSkip("spm_encode is not installed") }
        let lines = try String(contentsOfFile: small.corpusPath, encoding: .utf8).split(separator: "\n").prefix(300).map(String.init)
        let (status, output) = try runTool(spmEncode, ["--model=\(small.modelPath)", "--output_format=id"], stdin: lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(status, 0)
        let reference = output.split(separator: "\n", omittingEmptySubsequences: false).prefix(lines.count)
        XCTAssertEqual(reference.count, lines.count)
        for (line, expected) in zip(lines, reference) {
            let ids = try small.tokenizer.encode(line).map(String.init).joined(separator: " ")
            XCTAssertEqual(ids, String(expected), "line: \(line.prefix(60))")
        }
    }

    func testTrainedModelVocabularyAndSpecialPieces() throws {
        let tokenizer = try SmallTokenizer.get().tokenizer
        XCTAssertEqual(tokenizer.vocabSize, 600)
        XCTAssertEqual(tokenizer.unkID, 0)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertNil(tokenizer.padID)
        XCTAssertTrue(tokenizer.isControl(1))
        for piece in ChatTemplate.plumbline.specialTokens {
            let id = try XCTUnwrap(tokenizer.id(ofPiece: piece), piece)
            XCTAssertEqual(tokenizer.piece(ofID: id), piece)
            XCTAssertEqual(try tokenizer.encode("a\(piece)b").filter { $0 == id }.count, 1, "\(piece) is one piece, never split")
        }
        XCTAssertNil(tokenizer.id(ofPiece: "no-such-piece-in-a-600-vocab"))
        XCTAssertNil(tokenizer.piece(ofID: 600))
        // Byte fallback: a character never seen in training encodes to byte pieces and decodes back.
        let rare = "漢字 ✓"
        XCTAssertTrue(try tokenizer.encode(rare).contains { tokenizer.isByte($0) })
        XCTAssertEqual(try tokenizer.decode(try tokenizer.encode(rare)), rare)
    }

    func testEncodeDecodeRoundTripOnRealSamples() throws {
        let tokenizer = try SmallTokenizer.get().tokenizer
        let samples = try importFiles([
            try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz"),
            try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl"),
            try sharedData("llama-factory/v1_dpo_demo.jsonl"),
        ])
        var checked = 0
        for comparison in samples.comparisons.prefix(600) {
            for text in comparison.prompt.messages.map(\.content) + [comparison.chosen, comparison.rejected] {
                XCTAssertEqual(try tokenizer.decode(try tokenizer.encode(text)), text)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 1500)
        // The pieces concatenate to the text with spaces shown as U+2581 (identity normalisation).
        let text = "Hello  world, 2024!"
        XCTAssertEqual(try tokenizer.encodePieces(text).joined(), "▁" + text.replacingOccurrences(of: " ", with: "▁"))
    }

    func testUnigramTrainingAndLoadingFromBytes() throws {
        let small = try SmallTokenizer.get()
        let directory = try scratchDirectory(self)
        var options = TokenizerTrainingOptions()
        options.modelType = .unigram
        options.vocabSize = 500
        options.threads = 1
        let model = try TokenizerTrainer.train(inputFiles: [small.corpusPath], modelPrefix: directory.appendingPathComponent("uni").path, options: options)
        let fromFile = try Tokenizer(modelFile: model)
        let fromBytes = try Tokenizer(modelBytes: try Data(contentsOf: URL(fileURLWithPath: model)))
        XCTAssertEqual(fromFile.vocabSize, 500)
        let text = "How do I take care of a wooden table?"
        XCTAssertEqual(try fromFile.encode(text), try fromBytes.encode(text))
        XCTAssertEqual(try fromFile.decode(try fromFile.encode(text)), text)
    }

    /// Llama 2's rule (the default) gives every digit its own piece; without it, merges make pieces of
    /// numbers that are frequent in the corpus. The corpus states sums of 0...20 many times, so a
    /// 400-piece model learns "▁19" as one piece; the default must split it whatever the counts.
    func testSplitDigitsOption() throws {
        let directory = try scratchDirectory(self)
        let corpus = directory.appendingPathComponent("numbers.txt")
        var lines: [String] = []
        for a in 0...20 { for b in 0...20 { lines.append("\(a) plus \(b) is \(a + b).") } }
        try lines.joined(separator: "\n").write(to: corpus, atomically: true, encoding: .utf8)
        func pieces(splitDigits: Bool) throws -> [String] {
            var options = TokenizerTrainingOptions()
            // 256 byte pieces and the specials come first; with digits split this corpus has room for
            // at most 290 pieces, without it for many more merges (whole numbers among them).
            options.vocabSize = splitDigits ? 280 : 400
            options.threads = 1
            options.splitDigits = splitDigits
            let prefix = directory.appendingPathComponent(splitDigits ? "split" : "whole").path
            let model = try TokenizerTrainer.train(inputFiles: [corpus.path], modelPrefix: prefix, options: options)
            return try Tokenizer(modelFile: model).encodePieces("19 plus 8 is 27.")
        }
        let split = try pieces(splitDigits: true)
        XCTAssertFalse(split.contains { $0.filter(\.isNumber).count > 1 }, "split digits: \(split)")
        XCTAssertEqual(split.joined().filter(\.isNumber), "19827")
        let whole = try pieces(splitDigits: false)
        XCTAssertTrue(whole.contains("▁19"), "whole numbers: \(whole)")
        XCTAssertEqual(whole.joined(), "▁19▁plus▁8▁is▁27.")
    }

    func testTrainingIsDeterministic() throws {
        let small = try SmallTokenizer.get()
        let directory = try scratchDirectory(self)
        var options = TokenizerTrainingOptions()
        options.vocabSize = 600
        options.threads = 1
        let prefix = directory.appendingPathComponent("twice").path
        let first = try Data(contentsOf: URL(fileURLWithPath: try TokenizerTrainer.train(inputFiles: [small.corpusPath], modelPrefix: prefix, options: options)))
        let second = try Data(contentsOf: URL(fileURLWithPath: try TokenizerTrainer.train(inputFiles: [small.corpusPath], modelPrefix: prefix, options: options)))
        XCTAssertEqual(first, second)
    }

    /// The trainer writes its input and prefix paths into the model; the model keeps their file names
    /// only, so the same corpus and prefix name in two other directories give the same bytes, and
    /// the vocabulary is the trainer's own (the rewrite leaves the pieces alone).
    func testTrainingInTwoDirectoriesGivesTheSameBytes() throws {
        let small = try SmallTokenizer.get()
        let corpus = try String(contentsOfFile: small.corpusPath, encoding: .utf8)
        var options = TokenizerTrainingOptions()
        options.vocabSize = 600
        options.threads = 1
        var models: [Data] = []
        for name in ["first", "second/deeper"] {
            let directory = try scratchDirectory(self).appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let input = try writeFile(directory, "corpus.txt", corpus)
            let model = try TokenizerTrainer.train(inputFiles: [input], modelPrefix: directory.appendingPathComponent("spm").path, options: options)
            models.append(try Data(contentsOf: URL(fileURLWithPath: model)))
        }
        XCTAssertEqual(models[0], models[1])
        let text = String(decoding: models[0], as: UTF8.self)
        XCTAssertFalse(text.contains("/first/") || text.contains("/deeper/"), "a directory of the run is left in the model")
        XCTAssertTrue(text.contains("corpus.txt"), "the input's file name is kept")
        let tokenizer = try Tokenizer(modelBytes: models[0])
        XCTAssertEqual(tokenizer.vocabSize, 600)
        XCTAssertEqual(try tokenizer.encode("How do I take care of a wooden table?"), try small.tokenizer.encode("How do I take care of a wooden table?"))
    }

    func testErrorsAreClear() throws {
        XCTAssertThrowsError(try Tokenizer(modelFile: "/nonexistent/m.model")) { XCTAssertTrue("\($0)".contains("/nonexistent/m.model")) }
        XCTAssertThrowsError(try Tokenizer(modelBytes: Data("not a model".utf8))) { XCTAssertTrue("\($0)".contains("cannot load")) }
        XCTAssertThrowsError(try TokenizerTrainer.train(inputFiles: ["/nonexistent.txt"], modelPrefix: "/tmp/x", options: TokenizerTrainingOptions()))
        let tokenizer = try SmallTokenizer.get().tokenizer
        XCTAssertThrowsError(try tokenizer.decode([5, 600])) { XCTAssertTrue("\($0)".contains("600")) }
    }

    func testLlama2Tokenizer() throws {
        let path = try sharedData("llama2c/llama2-tokenizer.model")
        let tokenizer = try Tokenizer(modelFile: path)
        XCTAssertEqual(tokenizer.vocabSize, 32000)
        XCTAssertEqual(tokenizer.bosID, 1)
        XCTAssertEqual(tokenizer.eosID, 2)
        XCTAssertEqual(tokenizer.id(ofPiece: "▁Hello"), 15043)
        XCTAssertEqual(try tokenizer.encode("Hello world"), [15043, 3186])
        // Round trip on real samples through Llama 2's model (identity normalisation, byte fallback).
        let samples = try importFiles([try sharedData("pku-saferlhf/alpaca7b-test.first38.jsonl")]).comparisons
        for comparison in samples {
            for text in [comparison.prompt.messages[0].content, comparison.chosen, comparison.rejected] {
                XCTAssertEqual(try tokenizer.decode(try tokenizer.encode(text)), text)
            }
        }
        if let spmEncode = which("spm_encode") {
            let text = "[INST] What is the capital of France? [/INST] Paris."
            let (_, output) = try runTool(spmEncode, ["--model=\(path)", "--output_format=id"], stdin: text + "\n")
            XCTAssertEqual(try tokenizer.encode(text).map(String.init).joined(separator: " "), output.trimmingCharacters(in: .newlines))
        }
    }
}
