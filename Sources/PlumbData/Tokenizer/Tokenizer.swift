import CSentencePiece
import Foundation

/// A failure inside libsentencepiece, with the library's own message.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A loaded SentencePiece model (for example Llama 2's `tokenizer.model`), over the CSentencePiece shim.
///
/// The processor is immutable after loading and libsentencepiece's encode/decode are const, so one
/// instance may be shared across threads.
public final class Tokenizer: @unchecked Sendable {
    private let handle: OpaquePointer

    /// Loads a `.model` file.
    public init(modelFile path: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard let handle = spm_processor_load_file(path, &error) else {
            throw TokenizerError("cannot load SentencePiece model '\(path)': \(Tokenizer.take(error) ?? "unknown error")")
        }
        self.handle = handle
    }

    /// Loads a serialized model (the bytes of a `.model` file).
    public init(modelBytes: Data) throws {
        var error: UnsafeMutablePointer<CChar>?
        let loaded = modelBytes.withUnsafeBytes { raw in
            spm_processor_load_bytes(raw.baseAddress, raw.count, &error)
        }
        guard let handle = loaded else {
            throw TokenizerError("cannot load SentencePiece model from \(modelBytes.count) bytes: \(Tokenizer.take(error) ?? "unknown error")")
        }
        self.handle = handle
    }

    deinit { spm_processor_free(handle) }

    public var vocabSize: Int { Int(spm_vocab_size(handle)) }
    /// Special ids; nil when the model disables them (SentencePiece reports -1).
    public var bosID: Int32? { Tokenizer.optionalID(spm_bos_id(handle)) }
    public var eosID: Int32? { Tokenizer.optionalID(spm_eos_id(handle)) }
    public var unkID: Int32? { Tokenizer.optionalID(spm_unk_id(handle)) }
    public var padID: Int32? { Tokenizer.optionalID(spm_pad_id(handle)) }

    /// Encodes text to ids. No BOS/EOS: callers add special ids explicitly (see `ChatTemplate`).
    public func encode(_ text: String) throws -> [Int32] {
        var utf8 = text.utf8CString
        utf8.removeLast()  // the NUL terminator
        var ids: UnsafeMutablePointer<Int32>?
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        let status = utf8.withUnsafeBufferPointer { buffer in
            spm_encode_ids(handle, buffer.baseAddress, buffer.count, &ids, &count, &error)
        }
        defer { spm_free_ids(ids) }
        guard status == 0, let ids else { throw TokenizerError("encode failed: \(Tokenizer.take(error) ?? "unknown error")") }
        return Array(UnsafeBufferPointer(start: ids, count: count))
    }

    /// Encodes text to pieces (for inspection and tests).
    public func encodePieces(_ text: String) throws -> [String] {
        var utf8 = text.utf8CString
        utf8.removeLast()
        var pieces: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        let status = utf8.withUnsafeBufferPointer { buffer in
            spm_encode_pieces(handle, buffer.baseAddress, buffer.count, &pieces, &count, &error)
        }
        defer { spm_free_pieces(pieces, count) }
        guard status == 0, let pieces else { throw TokenizerError("encode failed: \(Tokenizer.take(error) ?? "unknown error")") }
        return (0..<count).map { String(cString: pieces[$0]!) }
    }

    /// Decodes ids to text. Control ids (BOS/EOS) decode to nothing; byte-fallback ids to their bytes.
    public func decode(_ ids: [Int32]) throws -> String {
        for id in ids where id < 0 || Int(id) >= vocabSize {
            throw TokenizerError("decode: id \(id) is outside the vocabulary (size \(vocabSize))")
        }
        var text: UnsafeMutablePointer<CChar>?
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        let status = ids.withUnsafeBufferPointer { buffer in
            spm_decode_ids(handle, buffer.baseAddress, buffer.count, &text, &count, &error)
        }
        defer { spm_free_string(text) }
        guard status == 0, let text else { throw TokenizerError("decode failed: \(Tokenizer.take(error) ?? "unknown error")") }
        return text.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }

    /// The id of a piece, or nil when the piece is not in the vocabulary (SentencePiece maps it to unk).
    public func id(ofPiece piece: String) -> Int32? {
        let id = spm_piece_to_id(handle, piece)
        if let unk = unkID, id == unk, piece != self.piece(ofID: unk) { return nil }
        return id
    }

    /// The piece of an id, or nil when out of range.
    public func piece(ofID id: Int32) -> String? {
        guard let raw = spm_id_to_piece(handle, id) else { return nil }
        defer { spm_free_string(raw) }
        return String(cString: raw)
    }

    public func isControl(_ id: Int32) -> Bool { spm_is_control(handle, id) != 0 }
    public func isByte(_ id: Int32) -> Bool { spm_is_byte(handle, id) != 0 }
    public func isUnknown(_ id: Int32) -> Bool { spm_is_unknown(handle, id) != 0 }
    public func isUnused(_ id: Int32) -> Bool { spm_is_unused(handle, id) != 0 }
    /// The piece's score in the model (merge priority for BPE, log-probability for unigram).
    public func score(_ id: Int32) -> Float { spm_get_score(handle, id) }

    private static func optionalID(_ id: Int32) -> Int32? { id < 0 ? nil : id }

    /// Copies and frees a shim error string.
    static func take(_ error: UnsafeMutablePointer<CChar>?) -> String? {
        guard let error else { return nil }
        defer { spm_free_string(error) }
        return String(cString: error)
    }
}
