import Foundation

/// Thresholds for near-duplicate detection (TigerBot: simhash, then longest common substring).
public struct DeduplicationSettings: Codable, Equatable, Sendable {
    /// Words per shingle for the simhash.
    public var shingleSize = 3
    /// Two simhashes within this Hamming distance are candidates (at most 3: see `bands`).
    public var maxHammingDistance = 3
    /// A candidate is a near duplicate when the longest common substring covers this fraction of
    /// the shorter text.
    public var minCommonSubstringRatio = 0.8
    public var nearDuplicates = true

    public init() {}
}

/// Why a record was dropped as a duplicate.
public enum DuplicateKind: String, Codable, Sendable {
    case exact
    case near
}

/// Finds exact duplicates (same kind, dimension and normalised text) and near duplicates among
/// records, in input order: the first occurrence is kept. Near duplicates (TigerBot's recipe):
/// simhashes within `maxHammingDistance`, confirmed when the longest common substring covers
/// `minCommonSubstringRatio` of the shorter text for the prompts and for each response in turn
/// (chosen with chosen, rejected with rejected), so that two pairs sharing a long prompt or one
/// response but differing in another are not duplicates.
struct Deduplicator {
    let settings: DeduplicationSettings
    private var exactKeys: Set<UInt64> = []
    /// Per group (kind and dimension), simhash bands: 4 x 16 bits. Two hashes within Hamming
    /// distance 3 agree on at least one band (pigeonhole), so only those are compared.
    private var bands: [String: [[UInt16: [Int32]]]] = [:]
    /// Per kept record: its simhash and where its normalised texts are stored.
    private var kept: [(hash: UInt64, texts: Int)] = []
    private let keptTexts = KeptTexts()

    init(settings: DeduplicationSettings) {
        precondition(settings.maxHammingDistance <= 3, "band lookup finds candidates only up to Hamming distance 3")
        self.settings = settings
    }

    /// nil when the record is new (and remembers it), otherwise the kind of duplicate.
    mutating func check(_ record: Record) throws -> DuplicateKind? {
        let group = Deduplicator.group(of: record)
        let prompt = Validator.normalise(record.prompt.text)
        let responses = record.responses.map(Validator.normalise)
        var hasher = FNV1a64()
        for part in [group, prompt] + responses {
            hasher.add(part)
            hasher.add(0)
        }
        if !exactKeys.insert(hasher.value).inserted { return .exact }
        guard settings.nearDuplicates else { return nil }
        let hash = SimHash.hash(([prompt] + responses).joined(separator: "\n"), shingleSize: settings.shingleSize)
        if bands[group] == nil { bands[group] = Array(repeating: [:], count: 4) }
        var seen = Set<Int>()
        for band in 0..<4 {
            for index in bands[group]![band][Deduplicator.bandKey(hash, band), default: []] where seen.insert(Int(index)).inserted {
                let other = kept[Int(index)]
                guard (other.hash ^ hash).nonzeroBitCount <= settings.maxHammingDistance else { continue }
                if isNear([prompt] + responses, try keptTexts.texts(other.texts)) { return .near }
            }
        }
        let index = Int32(kept.count)
        kept.append((hash, try keptTexts.append([prompt] + responses)))
        for band in 0..<4 { bands[group]![band][Deduplicator.bandKey(hash, band), default: []].append(index) }
        return nil
    }

    /// Prompt with prompt, then each response with the response in the same place.
    private func isNear(_ texts: [String], _ other: [String]) -> Bool {
        guard texts.count == other.count else { return false }
        let threshold = settings.minCommonSubstringRatio
        return zip(texts, other).allSatisfy { CommonSubstring.ratio($0, $1) >= threshold }
    }

    private static func bandKey(_ hash: UInt64, _ band: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: hash >> (16 * UInt64(band)))
    }

    /// Records are duplicates only within one kind, dimension, annotator and (for rankings) order:
    /// two annotators' judgements of the same pair are two votes, not a duplicate.
    static func group(of record: Record) -> String {
        switch record {
        case .comparison(let c): return "comparison/\(c.dimension.rawValue)/\(c.annotator ?? "")/\(c.details.tie?.rawValue ?? "")"
        case .ranking(let r): return "ranking/\(r.dimension.rawValue)/\(r.annotator ?? "")/\(r.ranks)"
        case .edit(let e): return "edit/\(e.annotator ?? "")"
        case .demonstration(let d): return "demonstration/\(d.annotator ?? "")"
        case .labelledResponse(let r): return "labelled-response/\(r.safe)/\(r.annotator ?? "")"
        case .feedback(let r): return "feedback/\(r.dimension.rawValue)/\(r.desirable)/\(r.annotator ?? "")"
        case .rating(let r): return "rating/\(r.scores.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })/\(r.annotator ?? "")"
        case .prompt: return "prompt"
        }
    }
}

/// 64-bit simhash (Charikar 2002) over word shingles, each shingle hashed with FNV-1a. Words are
/// runs of ASCII letters and digits (lower-cased) and non-ASCII bytes, read from UTF-8 directly.
enum SimHash {
    static func hash(_ text: String, shingleSize: Int) -> UInt64 {
        var words: [Range<Int>] = []
        let bytes = Array(text.utf8)
        var start: Int?
        for index in 0...bytes.count {
            let inWord = index < bytes.count && isWordByte(bytes[index])
            if inWord, start == nil { start = index }
            if !inWord, let begin = start { words.append(begin..<index); start = nil }
        }
        var weights = [Int](repeating: 0, count: 64)
        let count = max(1, words.count - shingleSize + 1)
        for first in 0..<count {
            var hasher = FNV1a64()
            for word in words[first..<min(words.count, first + shingleSize)] {
                for index in word { hasher.add(lowercased(bytes[index])) }
                hasher.add(0x20)
            }
            let h = hasher.value
            for bit in 0..<64 { weights[bit] += (h >> UInt64(bit)) & 1 == 1 ? 1 : -1 }
        }
        var result: UInt64 = 0
        for bit in 0..<64 where weights[bit] > 0 { result |= 1 << UInt64(bit) }
        return result
    }

    @inline(__always)
    private static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }

    @inline(__always)
    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte
    }
}

/// Longest common substring over UTF-8 bytes, by dynamic programming with two rows.
enum CommonSubstring {
    /// Length of the longest common substring divided by the shorter text's length.
    static func ratio(_ a: String, _ b: String) -> Double {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard !x.isEmpty, !y.isEmpty else { return x.isEmpty && y.isEmpty ? 1 : 0 }
        return Double(length(x, y)) / Double(min(x.count, y.count))
    }

    static func length(_ x: [UInt8], _ y: [UInt8]) -> Int {
        var previous = [Int32](repeating: 0, count: y.count + 1)
        var current = previous
        var best: Int32 = 0
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                for i in 0..<xs.count {
                    let xi = xs[i]
                    for j in 0..<ys.count {
                        let value: Int32 = xi == ys[j] ? previous[j] + 1 : 0
                        current[j + 1] = value
                        if value > best { best = value }
                    }
                    swap(&previous, &current)
                }
            }
        }
        return Int(best)
    }
}
