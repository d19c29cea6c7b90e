// The reference policy's log-probabilities of every comparison's two responses, computed once and
// kept as record shards (`reference/` in the DPO stage directory, `dpo-reference/2` records) with
// `reference/cache.json` naming the reference checkpoint's SHA-256 and window. A record is keyed by
// the comparison id and the SHA-256 of the two token sequences the reference scored (tokens and
// targets, after the shared truncation), so an entry is found again whatever the pair's split,
// position or mixture, and never for other text under the same id. A resumed stage, or a later stage
// given `--reference-cache`, takes every entry it needs from the caches whose checksum and window
// match and computes only the missing pairs; no reference model is loaded when none are missing.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

struct ReferenceRecord: Codable, Equatable {
    static let schema = "dpo-reference/2"
    var schema = ReferenceRecord.schema
    var id: String
    /// SHA-256 of the chosen and rejected sequences (`ReferenceLogProbs.contentHash`).
    var content: String
    var chosen: Double
    var rejected: Double
}

struct ReferenceCacheHeader: Codable, Equatable {
    var referenceSHA256: String
    var seqLen: Int
    var records: Int
    var files: [ShardFileInfo]
}

/// A cache entry's key: the comparison id and the SHA-256 of the two sequences the reference scored.
struct ReferenceKey: Hashable, Comparable {
    var content: String
    var id: String

    static func < (a: ReferenceKey, b: ReferenceKey) -> Bool { (a.content, a.id) < (b.content, b.id) }
}

enum ReferenceLogProbs {
    static let directoryName = "reference"

    typealias Table = [ReferenceKey: (chosen: Double, rejected: Double)]

    /// The reference log-probabilities of `pairs` (by split): each from a matching cache in
    /// `directory` or `reuse` when there, the rest computed with the model at `reference`; the
    /// entries of every pair are then cached in `directory` (left as it is when it holds exactly
    /// them). Returns the pairs with their reference figures and how many distinct pairs were computed.
    static func attach(_ pairs: [String: [DPOPair]], reference: URL, referenceSHA: String, seqLen: Int, padToken: Int32,
                       directory: URL, reuse: URL?, log: (String) -> Void) throws -> (pairs: [String: [DPOPair]], computed: Int) {
        let own = try? read(directory, referenceSHA: referenceSHA, seqLen: seqLen)
        var table = own ?? [:]
        if let reuse, let cached = try? read(reuse, referenceSHA: referenceSHA, seqLen: seqLen) { table.merge(cached) { old, _ in old } }
        // Each pair's key once; the distinct pairs without an entry, in split then position order.
        let keys = pairs.mapValues { $0.map(key) }
        var missing: [(key: ReferenceKey, pair: DPOPair)] = [], wanted = Set<ReferenceKey>()
        for split in pairs.keys.sorted() {
            for (k, p) in zip(keys[split]!, pairs[split]!) where wanted.insert(k).inserted && table[k] == nil {
                missing.append((k, p))
            }
        }
        if missing.isEmpty {
            log("dpo: reference log-probabilities of \(wanted.count) pairs from the cache")
        } else {
            let model = try StageModel.load(reference)
            let likelihood = try ResponseLikelihood(model: model, seqLen: seqLen, padToken: padToken)
            let values = try likelihood.logLikelihoods(missing.flatMap { [$0.pair.chosen, $0.pair.rejected] })
            for (i, m) in missing.enumerated() { table[m.key] = (values[2 * i].logProb, values[2 * i + 1].logProb) }
            log("dpo: reference log-probabilities of \(missing.count) pairs computed, \(wanted.count - missing.count) from the cache")
        }
        if own.map({ Set($0.keys) != wanted }) ?? true {
            try write(wanted.sorted().map { ($0, table[$0]!) }, to: directory, referenceSHA: referenceSHA, seqLen: seqLen)
        }
        let filled = pairs.map { split, list in
            (split, zip(keys[split]!, list).map { k, p -> DPOPair in
                var q = p
                (q.referenceChosen, q.referenceRejected) = table[k]!
                return q
            })
        }
        return (Dictionary(uniqueKeysWithValues: filled), missing.count)
    }

    /// Replaces the cache in `directory` by `entries`, in key order.
    static func write(_ entries: [(key: ReferenceKey, value: (chosen: Double, rejected: Double))], to directory: URL,
                      referenceSHA: String, seqLen: Int) throws {
        try? FileManager.default.removeItem(at: directory)
        let writer = try ShardWriter(directory: directory, name: "reference-logps")
        for entry in entries {
            try writer.append(ReferenceRecord(id: entry.key.id, content: entry.key.content, chosen: entry.value.chosen, rejected: entry.value.rejected))
        }
        let header = ReferenceCacheHeader(referenceSHA256: referenceSHA, seqLen: seqLen, records: entries.count, files: try writer.finish())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(header), to: directory.appendingPathComponent("cache.json"))
    }

    static func read(_ directory: URL, referenceSHA: String, seqLen: Int) throws -> Table? {
        let header = try JSONDecoder().decode(ReferenceCacheHeader.self, from: Data(contentsOf: directory.appendingPathComponent("cache.json")))
        guard header.referenceSHA256 == referenceSHA, header.seqLen == seqLen else { return nil }
        let reader = ShardReader(files: header.files.map { directory.appendingPathComponent($0.file) },
                                 options: ShardReader.Options(expectedSchema: ReferenceRecord.schema))
        var table: Table = [:]
        for r in try reader.readAll(ReferenceRecord.self) { table[ReferenceKey(content: r.content, id: r.id)] = (r.chosen, r.rejected) }
        return table
    }

    static func key(_ pair: DPOPair) -> ReferenceKey { ReferenceKey(content: contentHash(pair), id: pair.id) }

    /// SHA-256 of the chosen and rejected sequences' tokens and targets (little-endian Int32, each
    /// array preceded by its length).
    static func contentHash(_ pair: DPOPair) -> String {
        var hasher = SHA256()
        for array in [pair.chosen.tokens, pair.chosen.targets, pair.rejected.tokens, pair.rejected.targets] {
            var count = UInt64(array.count).littleEndian
            hasher.update(Data(bytes: &count, count: 8))
            array.map(\.littleEndian).withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalizeHex()
    }
}
