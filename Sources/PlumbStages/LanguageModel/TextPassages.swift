// Raw text for pretraining: one passage per non-empty line, split into train and validation by a
// hash of the passage (the same passage always lands on the same side).
import Foundation
import PlumbData

enum TextPassages {
    static func read(_ files: [URL], validationShare: Double) throws -> (train: [String], validation: [String]) {
        var train: [String] = [], validation: [String] = []
        let threshold = UInt64(Double(UInt64.max) * min(max(validationShare, 0), 1))
        for file in files {
            let text: String
            do { text = try String(contentsOf: file, encoding: .utf8) } catch {
                throw StageError("\(file.path): cannot read as UTF-8 text (\(error.localizedDescription))")
            }
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let passage = String(line)
                if FNV1a64.hash(passage) < threshold { validation.append(passage) } else { train.append(passage) }
            }
        }
        return (train, validation)
    }
}
