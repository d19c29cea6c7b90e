// Re-measures a generated task directory with the oracle: the SFT flaw rates, the annotators'
// disagreement with the oracle against what their noise implies, the safety-label noise, the
// rankings' agreement, and that no evaluation prompt is in a training file. `plumb task audit`.

import Foundation
import PlumbTask

public struct TaskAudit: Codable, Sendable {
    /// A measured rate beside the rate the settings state (or the noise model implies).
    public struct Check: Codable, Sendable {
        public let measured: RateEstimate
        public let stated: Double
        /// (measured - stated) in binomial standard errors of the measurement.
        public let standardErrors: Double

        init(count: Double, total: Int, stated: Double, variance: Double? = nil) {
            measured = RateEstimate(count: count, total: total)
            self.stated = stated
            let n = Double(max(total, 1))
            let sd = (variance ?? stated * (1 - stated) * n).squareRoot() / n
            standardErrors = sd > 0 ? (measured.rate - stated) / sd : 0
        }
    }

    public let sftWrongAnswers: Check
    public let sftRambling: Check
    public let sftHarmfulCompliance: Check
    public let sftOverRefusals: Check
    /// Comparisons whose chosen response the oracle scores lower; `stated` is the mean flip probability
    /// of each comparison's annotator given the pair's lengths.
    public let comparisonDisagreement: Check
    public let safetyLabelErrors: Check
    /// Ranking pairs ordered as the oracle orders them; `stated` is the mean of Phi(gap / (noise sqrt 2)).
    public let rankingPairAgreement: Check
    public let evalPrompts: Int
    /// Evaluation prompts found verbatim among the prompts of the training files (must be 0).
    public let evalPromptsInTraining: Int
    /// Evaluation prompts using neither a held-out wording nor a held-out entity (must be 0).
    public let evalPromptsNotHeldOut: Int

    public static func run(directory: URL) throws -> TaskAudit {
        let files = AuditFiles(directory)
        let manifest = try files.json(TaskFiles.manifest, as: TaskManifest.self)
        let settings = manifest.settings
        let sft = try files.jsonl(TaskFiles.sft, as: MessageRecord.self)
        var flaws = (help: 0, wrong: 0, ramble: 0, harmful: 0, comply: 0, benign: 0, refuse: 0)
        for record in sft {
            let verdict = try files.judge(record.prompt ?? "", record.response ?? "", "\(TaskFiles.sft) id \(record.id)")
            switch verdict.kind {
            case .harmful: flaws.harmful += 1; flaws.comply += verdict.violation ? 1 : 0
            case .borderline: flaws.benign += 1; flaws.refuse += verdict.falseRefusal ? 1 : 0
            default:
                flaws.help += 1
                flaws.wrong += verdict.quality.correct ? 0 : 1
                flaws.ramble += verdict.quality.concise ? 0 : 1
            }
        }
        let comparisons = try files.jsonl(TaskFiles.comparisons, as: ComparisonRecord.self)
        let agreement = try comparisonAgreement(comparisons, settings: settings, files: files)
        let ranking = try rankingAgreement(try files.json(TaskFiles.rankings, as: [RankingTask].self),
                                           noise: settings.annotation.rankingNoise, files: files)
        let (inTraining, notHeldOut, evalCount) = try heldOutChecks(files)
        let f = settings.sftFlaws
        return TaskAudit(
            sftWrongAnswers: Check(count: Double(flaws.wrong), total: flaws.help, stated: f.wrongAnswer),
            sftRambling: Check(count: Double(flaws.ramble), total: flaws.help, stated: f.rambling),
            sftHarmfulCompliance: Check(count: Double(flaws.comply), total: flaws.harmful, stated: f.harmfulCompliance),
            sftOverRefusals: Check(count: Double(flaws.refuse), total: flaws.benign, stated: f.overRefusal),
            comparisonDisagreement: agreement.disagreement, safetyLabelErrors: agreement.safetyLabels,
            rankingPairAgreement: ranking, evalPrompts: evalCount, evalPromptsInTraining: inTraining,
            evalPromptsNotHeldOut: notHeldOut)
    }

    static func comparisonAgreement(_ records: [ComparisonRecord], settings: TaskSettings,
                                    files: AuditFiles) throws -> (disagreement: Check, safetyLabels: Check) {
        let profiles = Dictionary(settings.annotation.annotators.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var flips = 0, expected = 0.0, variance = 0.0, wrongLabels = 0
        for record in records {
            let place = "\(TaskFiles.comparisons) id \(record.id)"
            guard let prompt = record.prompt.first?.content, let chosenText = record.chosen.last?.content,
                  let rejectedText = record.rejected.last?.content else { throw OracleInputError("\(place): empty prompt, chosen or rejected") }
            guard let profile = profiles[record.annotator] else { throw OracleInputError("\(place): annotator \(record.annotator) is not in task.json") }
            let chosen = try files.judge(prompt, chosenText, place), rejected = try files.judge(prompt, rejectedText, place)
            let (better, worse) = chosen.score > rejected.score ? (chosen, rejected) : (rejected, chosen)
            let p = profile.disagreementProbability(betterWords: better.quality.wordCount, worseWords: worse.quality.wordCount)
            flips += chosen.score < rejected.score ? 1 : 0
            expected += p
            variance += p * (1 - p)
            wrongLabels += (record.chosenSafe == chosen.violation ? 1 : 0) + (record.rejectedSafe == rejected.violation ? 1 : 0)
        }
        let n = records.count
        return (Check(count: Double(flips), total: n, stated: expected / Double(max(n, 1)), variance: variance),
                Check(count: Double(wrongLabels), total: 2 * n, stated: settings.annotation.safetyLabelNoise))
    }

    static func rankingAgreement(_ tasks: [RankingTask], noise: Double, files: AuditFiles) throws -> Check {
        var agree = 0, pairs = 0, expected = 0.0, variance = 0.0
        for task in tasks {
            guard let order = task.annotations.first?.result.first?.value.ranker else { continue }
            var score: [String: Double] = [:]
            for item in task.data.items {
                score[item.id] = try files.judge(task.data.prompt, item.body, "\(TaskFiles.rankings) task \(task.id)").score
            }
            let known = order.compactMap { score[$0] }
            for i in 0..<known.count {
                for j in (i + 1)..<known.count {
                    let p = SimulatedAnnotator.rankingAgreementProbability(gap: known[i] - known[j], noise: noise)
                    agree += known[i] > known[j] ? 1 : 0
                    pairs += 1
                    expected += p
                    variance += p * (1 - p)
                }
            }
        }
        return Check(count: Double(agree), total: pairs, stated: expected / Double(max(pairs, 1)), variance: variance)
    }

    static func heldOutChecks(_ files: AuditFiles) throws -> (inTraining: Int, notHeldOut: Int, count: Int) {
        var training = Set<String>()
        for name in [TaskFiles.sft, TaskFiles.rejectionSamplingPrompts, TaskFiles.ppoPrompts] {
            for record in try files.jsonl(name, as: MessageRecord.self) { training.insert(record.prompt ?? "") }
        }
        for record in try files.jsonl(TaskFiles.comparisons, as: ComparisonRecord.self) { training.insert(record.prompt.first?.content ?? "") }
        for task in try files.json(TaskFiles.rankings, as: [RankingTask].self) { training.insert(task.data.prompt) }
        for task in try files.json(TaskFiles.edits, as: [EditTask].self) { training.insert(task.data.prompt) }
        let eval = try files.jsonl(TaskFiles.evalPrompts, as: MessageRecord.self).compactMap(\.prompt)
        return (HeldOutCheck.evalInTraining(eval: eval, training: training), HeldOutCheck.evalNotHeldOut(eval), eval.count)
    }
}

/// Reading a task directory, with errors that name the file and the record.
struct AuditFiles {
    let directory: URL

    init(_ directory: URL) { self.directory = directory }

    func data(_ name: String) throws -> Data {
        let url = directory.appendingPathComponent(name)
        do { return try Data(contentsOf: url) } catch { throw OracleInputError("\(url.path): cannot read (\(error.localizedDescription))") }
    }

    func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: try data(name)) } catch let error as OracleInputError { throw error } catch {
            throw OracleInputError("\(directory.appendingPathComponent(name).path): \(error)")
        }
    }

    func jsonl<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        let lines = String(decoding: try data(name), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var out: [T] = []
        for (i, line) in lines.enumerated() where !line.isEmpty {
            do { out.append(try JSONDecoder().decode(T.self, from: Data(line.utf8))) } catch {
                throw OracleInputError("\(directory.appendingPathComponent(name).path) line \(i + 1): \(error)")
            }
        }
        return out
    }

    func judge(_ prompt: String, _ response: String, _ place: String) throws -> OracleVerdict {
        do { return try OracleJudge.judge(prompt: prompt, response: response) } catch { throw OracleInputError("\(place): \(error)") }
    }
}
