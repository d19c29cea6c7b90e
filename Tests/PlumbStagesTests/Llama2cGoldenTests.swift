import Foundation
import PlumbData
import PlumbModel
import PlumbTestSupport
import XCTest

/// llama2.c's tokenizer.bin reader and the golden greedy text of the real stories260K model, and the
/// GGUF export command on it.
final class Llama2cGoldenTests: XCTestCase {
    /// The text ../shared/data/README.md gives for greedy decoding from BOS (run.c -t 0, 60 tokens).
    static let golden = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
        + "One day, she saw a big, red ball. She wanted to play with it, but it was too high."

    /// `shared/data/<relative>` (PlumbTestSupport's `sharedData`) as a file URL.
    func sharedData(_ relative: String) throws -> URL {
        URL(fileURLWithPath: try PlumbTestSupport.sharedData(relative))
    }

    func stories() throws -> (LlamaModel, Llama2cTokenizer) {
        let model = try LlamaModel.load(llama2c: try sharedData("llama2c/stories260K.bin"))
        return (model, try Llama2cTokenizer(url: try sharedData("llama2c/tok512.bin"), vocabSize: model.config.vocabSize))
    }

    func greedy(_ model: LlamaModel, _ format: DecodeWeightFormat, tokens: Int) throws -> [Int32] {
        let generator = try Generator(config: model.config, weights: model.weights, maxSequences: 1, format: format)
        return try generator.generate([GenerationRequest(prompt: [Llama2cTokenizer.bosID])], options: GenerationOptions(maxNewTokens: tokens))[0].tokens
    }

    /// Real weights through the real tokenizer: the first 61 greedy tokens after BOS decode to exactly
    /// the README's text, as run.c -t 0 -n 61 prints it (-n 60 prints 60 tokens and stops before the
    /// final "."; the README's "first 60 tokens" is one short). Weights stored transposed or a
    /// tokenizer of another model of the same size would give garbage here.
    func testGreedyGoldenText() throws {
        let (model, tokenizer) = try stories()
        let tokens = try greedy(model, .f32, tokens: 61)
        XCTAssertEqual(try tokenizer.decode(tokens), Self.golden)
        // run.c's encoder gives the same ids back for this text (a dummy-prefix space first, dropped after BOS on decode).
        XCTAssertEqual(tokenizer.encode(Self.golden), tokens)
    }

    /// The 8-bit decoder on the same real model: 260k's rows of 64 are quantised (down_proj, rows of
    /// 172, stays fp32). Greedy tokens agree with fp32 on at least 95% of the 61 positions.
    func testGreedyQ8AgreesWithF32() throws {
        let (model, _) = try stories()
        let f32 = try greedy(model, .f32, tokens: 61), q8 = try greedy(model, .q8, tokens: 61)
        let agree = zip(f32, q8).filter { $0 == $1 }.count
        XCTAssertGreaterThanOrEqual(Double(agree) / 61, 0.95, "q8 \(q8) vs f32 \(f32)")
    }

    /// The reader: the piece table, byte pieces, and a tokenizer of another vocabulary size refused
    /// with both sizes named.
    func testTokenizerBinReader() throws {
        let url = try sharedData("llama2c/tok512.bin")
        let t = try Llama2cTokenizer(url: url, vocabSize: 512)
        XCTAssertEqual(t.vocabSize, 512)
        XCTAssertEqual(t.pieces[3], Array("<0x00>".utf8))
        XCTAssertEqual(t.pieceBytes(3 + 0x41, after: 5), [0x41])
        XCTAssertEqual(t.tokenTypes[0], 2); XCTAssertEqual(t.tokenTypes[1], 3); XCTAssertEqual(t.tokenTypes[10], 6)
        XCTAssertEqual(try t.decode([t.encode("Lily and Tom")[0]] + t.encode("Lily and Tom").dropFirst()), "Lily and Tom")
        let space = Int32(t.pieces.firstIndex(of: [0x20])!)
        XCTAssertEqual(t.encode("中"), [space] + [0xE4, 0xB8, 0xAD].map { $0 + Llama2cTokenizer.byteOffset },
                       "a character missing from the vocabulary falls back to its three UTF-8 bytes (after the dummy prefix)")
        XCTAssertEqual(try t.decode(t.encode("中")), "中", "byte pieces decode to the character; the prefix space is dropped after BOS")
        XCTAssertThrowsError(try Llama2cTokenizer(url: url, vocabSize: 32000)) { error in
            XCTAssertTrue("\(error)".contains("512 pieces") && "\(error)".contains("32000"), "\(error)")
        }
        var cut = try Data(contentsOf: url)
        cut.removeLast(3)
        XCTAssertThrowsError(try Llama2cTokenizer(data: cut, source: "cut.bin")) { error in
            XCTAssertTrue("\(error)".contains("cut.bin") && "\(error)".contains("piece 511"), "\(error)")
        }
    }
}
