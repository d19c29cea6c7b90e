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

enum ReferenceLogProbs {
    static let directoryName = "reference"

    /// The reference log-probabilities of `pairs` (by split): each from a matching cache in
    /// `directory` or `reuse` when there, the rest computed with the model at `reference`; the
    /// entries of every pair are then cached in `directory`. Returns the pairs with their reference
    /// figures and how many distinct pairs had to be computed.
    static func attach(_ pairs: [String: [DPOPair]], reference: URL, referenceSHA: String, seqLen: Int, rows: Int, padToken: Int32,
                       directory: URL, reuse: URL?, log: (String) -> Void) throws -> (pairs: [String: [DPOPair]], computed: Int) {
        var table: [String: (Double, Double)] = [:]
        for candidate in [directory, reuse].compactMap({ $0 }) {
            guard let cached = try? read(candidate, referenceSHA: referenceSHA, seqLen: seqLen) else { continue }
            table.merge(cached) { old, _ in old }
        }
        // Distinct pairs without an entry, in split then position order.
        var missing: [(key: String, pair: DPOPair)] = [], seen = Set<String>()
        for split in pairs.keys.sorted() {
            for p in pairs[split]! {
                let k = key(p)
                if table[k] == nil, seen.insert(k).inserted { missing.append((k, p)) }
            }
        }
        let wanted = Set(pairs.values.flatMap { $0.map(key) })
        if missing.isEmpty {
            log("dpo: reference log-probabilities of \(wanted.count) pairs from the cache")
        } else {
            let model = try StageModel.load(reference)
            let likelihood = try ResponseLikelihood(model: model, rows: rows, seqLen: seqLen, padToken: padToken)
            let values = try likelihood.logLikelihoods(missing.flatMap { [$0.pair.chosen, $0.pair.rejected] })
            for (i, m) in missing.enumerated() { table[m.key] = (values[2 * i].logProb, values[2 * i + 1].logProb) }
            log("dpo: reference log-probabilities of \(missing.count) pairs computed, \(wanted.count - missing.count) from the cache")
        }
        try write(wanted.sorted().map { k in (k, table[k]!) }, to: directory, referenceSHA: referenceSHA, seqLen: seqLen)
        return (fill(pairs, table), missing.count)
    }

    /// Replaces the cache in `directory` by `entries` (key -> chosen, rejected), in key order.
    static func write(_ entries: [(key: String, value: (Double, Double))], to directory: URL, referenceSHA: String, seqLen: Int) throws {
        if let existing = try? read(directory, referenceSHA: referenceSHA, seqLen: seqLen), existing.count == entries.count,
           entries.allSatisfy({ entry in existing[entry.key].map { $0 == entry.value } ?? false }) { return }
        try? FileManager.default.removeItem(at: directory)
        let writer = try ShardWriter(directory: directory, name: "reference-logps")
        for entry in entries {
            let parts = entry.key.split(separator: "/", maxSplits: 1).map(String.init)
            try writer.append(ReferenceRecord(id: parts[1], content: parts[0], chosen: entry.value.0, rejected: entry.value.1))
        }
        let header = ReferenceCacheHeader(referenceSHA256: referenceSHA, seqLen: seqLen, records: entries.count, files: try writer.finish())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(header), to: directory.appendingPathComponent("cache.json"))
    }

    static func read(_ directory: URL, referenceSHA: String, seqLen: Int) throws -> [String: (Double, Double)]? {
        let header = try JSONDecoder().decode(ReferenceCacheHeader.self, from: Data(contentsOf: directory.appendingPathComponent("cache.json")))
        guard header.referenceSHA256 == referenceSHA, header.seqLen == seqLen else { return nil }
        let reader = ShardReader(files: header.files.map { directory.appendingPathComponent($0.file) },
                                 options: ShardReader.Options(expectedSchema: ReferenceRecord.schema))
        var table: [String: (Double, Double)] = [:]
        for r in try reader.readAll(ReferenceRecord.self) { table[r.content + "/" + r.id] = (r.chosen, r.rejected) }
        return table
    }

    /// `CONTENT/ID`: the content hash first, so the id (which may hold '/') is the rest.
    static func key(_ pair: DPOPair) -> String { contentHash(pair) + "/" + pair.id }

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

    static func fill(_ pairs: [String: [DPOPair]], _ table: [String: (Double, Double)]) -> [String: [DPOPair]] {
        Dictionary(uniqueKeysWithValues: pairs.map { split, list in
            (split, list.map { p in
                var q = p
                (q.referenceChosen, q.referenceRejected) = table[key(p)]!
                return q
            })
        })
    }
}
