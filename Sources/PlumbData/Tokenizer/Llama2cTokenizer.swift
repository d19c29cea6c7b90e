// llama2.c's `tokenizer.bin` (written by its `tokenizer.py export`): int32 max token length, then per
// piece a float32 score, an int32 byte length and the piece's bytes, little-endian, one piece per id.
// Pieces are SentencePiece's with the "▁" (U+2581) already turned into a space; ids 0, 1 and 2 are
// <unk>, <s> and </s>, and "<0xHH>" pieces stand for single bytes (byte fallback).
//
// Encoding and decoding follow llama2.c's run.c (`encode`, `decode`), which is what the checkpoint's
// tokens were produced with:
//   encode: a dummy-prefix " " piece when the text is not empty, then each UTF-8 character's piece
//           (or its bytes as byte pieces, id = byte + 3), then repeatedly merge the adjacent pair
//           whose concatenation is a piece of the highest score (the first such pair on ties) until
//           no pair merges;
//   decode: a piece after BOS loses its leading space; a "<0xHH>" piece is that byte.
import Foundation

public struct Llama2cTokenizer: Sendable {
    public static let unkID: Int32 = 0, bosID: Int32 = 1, eosID: Int32 = 2
    /// Byte b's piece is id b + 3 (run.c's byte fallback).
    public static let byteOffset: Int32 = 3

    /// Each id's piece, as the file's bytes (spaces, not "▁").
    public let pieces: [[UInt8]]
    public let scores: [Float]
    public let maxTokenLength: Int
    private let ids: [[UInt8]: Int32]

    public var vocabSize: Int { pieces.count }

    /// Reads `url`; throws unless it holds exactly `vocabSize` pieces (the checkpoint's vocab_size),
    /// since a tokenizer of another size cannot be the one the model was trained with.
    public init(url: URL, vocabSize: Int) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError("tokenizer.bin '\(url.path)': cannot read (\(error.localizedDescription))")
        }
        try self.init(data: data, source: url.path)
        guard pieces.count == vocabSize else {
            throw TokenizerError("tokenizer.bin '\(url.path)' holds \(pieces.count) pieces but the checkpoint's vocab_size is \(vocabSize): "
                + "it is the tokenizer of another model")
        }
    }

    /// Parses a tokenizer.bin's bytes; `source` names it in errors.
    public init(data: Data, source: String) throws {
        let bytes = [UInt8](data)
        var at = 0
        func int32(_ field: String, piece: Int) throws -> Int32 {
            guard at + 4 <= bytes.count else {
                throw TokenizerError("tokenizer.bin '\(source)': piece \(piece): the file ends inside its \(field) (byte offset \(at))")
            }
            let v = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            at += 4
            return Int32(bitPattern: v)
        }
        let maxLength = try int32("max token length", piece: -1)
        guard maxLength > 0 else { throw TokenizerError("tokenizer.bin '\(source)': max token length \(maxLength) must be positive (byte offset 0)") }
        var pieces: [[UInt8]] = [], scores: [Float] = []
        while at < bytes.count {
            let i = pieces.count
            let score = Float(bitPattern: UInt32(bitPattern: try int32("score", piece: i)))
            let length = Int(try int32("length", piece: i))
            guard length >= 0, length <= Int(maxLength), at + length <= bytes.count else {
                throw TokenizerError("tokenizer.bin '\(source)': piece \(i): length \(length) at byte offset \(at - 4) is negative, "
                    + "above the max token length \(maxLength) or past the end of the file (\(bytes.count) bytes)")
            }
            pieces.append(Array(bytes[at..<at + length]))
            scores.append(score)
            at += length
        }
        guard pieces.count > Int(Self.eosID) else {
            throw TokenizerError("tokenizer.bin '\(source)': \(pieces.count) pieces; it needs at least <unk>, <s> and </s>")
        }
        self.pieces = pieces; self.scores = scores; maxTokenLength = Int(maxLength)
        var ids: [[UInt8]: Int32] = [:]
        for (i, p) in pieces.enumerated() where ids[p] == nil { ids[p] = Int32(i) }
        self.ids = ids
    }

    /// run.c's `encode(text, bos=0, eos=0)`: no BOS or EOS (callers add them).
    public func encode(_ text: String) -> [Int32] {
        let utf8 = Array(text.utf8)
        var tokens: [Int32] = []
        if !utf8.isEmpty, let space = ids[[0x20]] { tokens.append(space) }
        var i = 0
        while i < utf8.count {   // one UTF-8 character (at most 4 bytes) at a time
            var end = i + 1
            while end < utf8.count, utf8[end] & 0xC0 == 0x80, end - i < 4 { end += 1 }
            let character = Array(utf8[i..<end])
            if let id = ids[character] {
                tokens.append(id)
            } else {
                tokens += character.map { Int32($0) + Self.byteOffset }
            }
            i = end
        }
        while true {   // merge the best-scoring adjacent pair until none merges
            var best: (score: Float, id: Int32, at: Int)?
            for j in 0..<max(0, tokens.count - 1) {
                guard let id = ids[pieces[Int(tokens[j])] + pieces[Int(tokens[j + 1])]] else { continue }
                if best == nil || scores[Int(id)] > best!.score { best = (scores[Int(id)], id, j) }
            }
            guard let merge = best else { break }
            tokens[merge.at] = merge.id
            tokens.remove(at: merge.at + 1)
        }
        return tokens
    }

    /// The bytes run.c's `decode(prev, token)` gives for `token` after `previous`.
    public func pieceBytes(_ token: Int32, after previous: Int32) -> [UInt8] {
        var piece = pieces[Int(token)]
        if previous == Self.bosID, piece.first == 0x20 { piece.removeFirst() }
        if let byte = Self.byteValue(piece) { return [byte] }
        return piece
    }

    /// Text of `ids` decoded one after another with run.c's `decode` (starting after `first`, BOS by
    /// default). run.c prints each piece through `safe_printf`, which drops a lone byte that is not
    /// printable; here byte pieces are kept, so a character spelled in bytes comes back whole.
    public func decode(_ ids: [Int32], after first: Int32 = Llama2cTokenizer.bosID) throws -> String {
        var out: [UInt8] = []
        var previous = first
        for id in ids {
            guard id >= 0, Int(id) < pieces.count else { throw TokenizerError("decode: id \(id) is outside the vocabulary (size \(pieces.count))") }
            out += pieceBytes(id, after: previous)
            previous = id
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The byte of a "<0xHH>" piece.
    public static func byteValue(_ piece: [UInt8]) -> UInt8? {
        guard piece.count == 6, piece.starts(with: Array("<0x".utf8)), piece[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: piece[3..<5], as: UTF8.self), radix: 16)
    }

    /// Token types as SentencePiece (and GGUF's `tokenizer.ggml.token_type`) number them:
    /// 1 normal, 2 unknown, 3 control, 6 byte.
    public var tokenTypes: [Int32] {
        pieces.indices.map { i in
            if i == Int(Self.unkID) { return 2 }
            if i == Int(Self.bosID) || i == Int(Self.eosID) { return 3 }
            return Self.byteValue(pieces[i]) != nil ? 6 : 1
        }
    }

    /// Pieces in SentencePiece's own spelling (space as "▁"), as GGUF's `tokenizer.ggml.tokens` holds them.
    public var sentencePiecePieces: [[UInt8]] {
        let mark = Array("\u{2581}".utf8)
        return pieces.map { p in p.flatMap { $0 == 0x20 ? mark : [$0] } }
    }
}
