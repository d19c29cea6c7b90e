// The reference policy's log-probabilities of every comparison's two responses, computed once and
// kept as record shards (`reference/` in the DPO stage directory, `dpo-reference/1` records keyed by
// comparison id and split) with `reference/cache.json` naming the reference checkpoint's SHA-256 and
// window. A resumed stage, or a later stage given `--reference-cache`, reuses a cache whose
// checksum, window and ids match, and recomputes otherwise: no reference model is in memory while
// the policy trains.
import Foundation
import PlumbData
import PlumbModel
import PlumbStore
import PlumbTensor

struct ReferenceRecord: Codable, Equatable {
    static let schema = "dpo-reference/1"
    var schema = ReferenceRecord.schema
    var id: String
    var split: String
    /// Position of the pair in its split.
    var index: Int
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

    /// The reference log-probabilities of `pairs` (by split), from a matching cache in `directory` or
    /// in `reuse`, else computed with the model at `reference` and cached in `directory`.
    /// Returns the pairs with their reference figures and whether a cache was used.
    static func attach(_ pairs: [String: [DPOPair]], reference: URL, referenceSHA: String, seqLen: Int, rows: Int, padToken: Int32,
                       directory: URL, reuse: URL?, log: (String) -> Void) throws -> (pairs: [String: [DPOPair]], cached: Bool) {
        let wanted = pairs.flatMap { split, list in list.indices.map { key(split, $0, list[$0].id) } }
        for candidate in [directory, reuse].compactMap({ $0 }) {
            if let table = try? read(candidate, referenceSHA: referenceSHA, seqLen: seqLen), wanted.allSatisfy({ table[$0] != nil }) {
                log("dpo: reference log-probabilities from the cache in \(candidate.path)")
                return (fill(pairs, table), true)
            }
        }
        let model = try StageModel.load(reference)
        let likelihood = try ResponseLikelihood(model: model, rows: rows, seqLen: seqLen, padToken: padToken)
        try? FileManager.default.removeItem(at: directory)
        let writer = try ShardWriter(directory: directory, name: "reference-logps")
        var table: [String: (Double, Double)] = [:]
        for split in pairs.keys.sorted() {
            let list = pairs[split]!
            let values = try likelihood.logLikelihoods(list.flatMap { [$0.chosen, $0.rejected] })
            for (i, p) in list.enumerated() {
                let record = ReferenceRecord(id: p.id, split: split, index: i, chosen: values[2 * i].logProb, rejected: values[2 * i + 1].logProb)
                try writer.append(record)
                table[key(split, i, p.id)] = (record.chosen, record.rejected)
            }
        }
        let header = ReferenceCacheHeader(referenceSHA256: referenceSHA, seqLen: seqLen, records: table.count, files: try writer.finish())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicFile.write(try encoder.encode(header), to: directory.appendingPathComponent("cache.json"))
        log("dpo: reference log-probabilities of \(table.count) pairs computed and cached in \(directory.path)")
        return (fill(pairs, table), false)
    }

    static func read(_ directory: URL, referenceSHA: String, seqLen: Int) throws -> [String: (Double, Double)]? {
        let header = try JSONDecoder().decode(ReferenceCacheHeader.self, from: Data(contentsOf: directory.appendingPathComponent("cache.json")))
        guard header.referenceSHA256 == referenceSHA, header.seqLen == seqLen else { return nil }
        let reader = ShardReader(files: header.files.map { directory.appendingPathComponent($0.file) },
                                 options: ShardReader.Options(expectedSchema: ReferenceRecord.schema))
        var table: [String: (Double, Double)] = [:]
        for r in try reader.readAll(ReferenceRecord.self) { table[key(r.split, r.index, r.id)] = (r.chosen, r.rejected) }
        return table
    }

    static func key(_ split: String, _ index: Int, _ id: String) -> String { "\(split)/\(index)/\(id)" }

    static func fill(_ pairs: [String: [DPOPair]], _ table: [String: (Double, Double)]) -> [String: [DPOPair]] {
        Dictionary(uniqueKeysWithValues: pairs.map { split, list in
            (split, list.enumerated().map { i, p in
                var q = p
                (q.referenceChosen, q.referenceRejected) = table[key(split, i, p.id)]!
                return q
            })
        })
    }
}
