// Comparisons whose chosen and rejected responses are identical carry no preference: DPO and KTO
// set them aside into the stage's quarantine set, each with its reason and source.
import Foundation
import PlumbData
import PlumbStore

enum IdenticalResponses {
    /// Writes the stage's `quarantine` set: one entry per comparison of `identical`. A resumed
    /// attempt writes the set again (the same records, from the same data).
    static func quarantine(_ identical: [Comparison], stage: StageContext, method: String) throws {
        for file in (try? FileManager.default.contentsOfDirectory(atPath: stage.directory.path)) ?? []
        where ShardNaming.parse(file)?.name == "quarantine" {
            try FileManager.default.removeItem(at: stage.directory.appendingPathComponent(file))
        }
        let quarantine = try stage.writer.shardWriter(name: "quarantine")
        for c in identical {
            try quarantine.append(QuarantineEntry(reason: .identicalResponses, field: "chosen",
                                                  detail: "comparison \(c.id): chosen and rejected responses are identical; \(method) has nothing to learn from it",
                                                  source: c.source, excerpt: c.chosen))
        }
        try stage.writer.addOutput(name: "quarantine", files: try quarantine.finish())
    }
}
