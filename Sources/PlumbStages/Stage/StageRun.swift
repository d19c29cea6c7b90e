// The one sequence every stage runs through, by hand or in a pipeline: validate the parameters and
// the inputs, prepare (read and check the inputs), begin the stage directory under the cache key
// (a `running` manifest; an unfinished attempt of the same key is kept when the stage resumes),
// execute, then record the summary and its metrics and complete, or mark the stage failed.
import Foundation
import PlumbStore

public enum StageRun {
    public static let standardError: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    @discardableResult
    public static func run<S: Stage>(_ stage: S.Type, _ parameters: S.Parameters, inputs: StageInputs, location: StageLocation,
                                     environment: StageEnvironment = StageEnvironment(), progress: @escaping ProgressHandler = { _ in },
                                     log: @escaping (String) -> Void = standardError) throws -> S.Summary {
        try parameters.validate()
        try inputs.check(S.slots, kind: S.kind)
        let prepared = try S.prepare(parameters, inputs: inputs, log: log)
        let (key, slots) = try StageKey.compute(kind: S.kind, parameters: parameters, inputs: inputs, runsRoot: location.runsRoot)
        let writer = try StageWriter.begin(
            runsRoot: location.runsRoot, run: location.run, stage: location.stage, kind: S.kind.name, config: parameters,
            inputs: prepared.files, seed: parameters.manifestSeed, replaceComplete: S.rerun == .replace, keepUnfinished: S.rerun == .resume,
            key: key, slots: slots, log: log)
        return try writer.finish {
            let summary = try S.execute(prepared.value, parameters: parameters,
                                        stage: StageContext(writer: writer, location: location, progress: progress, log: log,
                                                            environment: environment))
            for (name, value) in summary.metrics { writer.setMetric(name, value) }
            try writer.setSummary(summary)
            return summary
        }
    }

    /// The summary a complete stage recorded, decoded as `S.Summary`.
    public static func summary<S: Stage>(_ stage: S.Type, of directory: URL) throws -> S.Summary {
        let manifest = try StageManifest.read(from: directory)
        guard manifest.kind == S.kind.name, manifest.status == .complete, let summary = try manifest.decodeSummary(S.Summary.self) else {
            throw StageError("\(directory.path): not a complete \(S.kind) stage with a summary (kind \(manifest.kind), \(manifest.status.rawValue))")
        }
        return summary
    }
}
