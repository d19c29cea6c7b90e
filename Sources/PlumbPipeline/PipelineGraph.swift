// A pipeline file checked as a graph before anything runs: every kind is known, every reference
// names a stage (of this file, or of an earlier run through the chain), there is no cycle, and every
// stage's options and inputs fit its kind (its parameters decoded, its input slots filled), so an
// unknown or malformed option is reported with its line. Stages come out in an
// order where each follows its inputs (file order among independent stages).
import Foundation
import PlumbStages

public struct PipelineStage {
    var spec: PipelineStageSpec
    public var kind: PipelineStageKind
    /// Input option -> references.
    public var inputs: [(option: String, refs: [(ref: PipelineRef, at: PipelineLocation)])]
    /// Stages of this file it reads.
    public var dependencies: [String]

    public var name: String { spec.name }

    /// Options as they enter the key: option -> values as written (after `${}` substitution).
    var keyOptions: [String: [String]] {
        Dictionary(spec.options.map { ($0.option, $0.values.map(\.text)) }, uniquingKeysWith: { $0 + $1 })
    }
}

public struct PipelineGraph {
    public var file: PipelineFile
    public var stages: [PipelineStage]
    var chain: PipelineRunChain
    var registry: StageRegistry

    init(_ file: PipelineFile, chain: PipelineRunChain, registry: StageRegistry) throws {
        self.file = file
        self.chain = chain
        self.registry = registry
        let names = Set(file.stages.map(\.name))
        var stages: [PipelineStage] = []
        for spec in file.stages {
            guard let kind = PipelineStageKind.named(spec.kind, registry: registry) else {
                throw PipelineError(spec.at, "unknown stage kind \"\(spec.kind)\" (known: \(PipelineStageKind.names(registry: registry).joined(separator: ", ")))")
            }
            var inputs: [(option: String, refs: [(ref: PipelineRef, at: PipelineLocation)])] = []
            var dependencies: [String] = []
            for input in spec.inputs {
                var refs: [(ref: PipelineRef, at: PipelineLocation)] = []
                for value in input.refs {
                    let ref = try PipelineRef(value.text, at: value.at)
                    if ref.scope == .local {
                        guard names.contains(ref.stage) else {
                            throw PipelineError(value.at, "input \"\(value.text)\" names no stage of this file (stages: \(file.stages.map(\.name).joined(separator: ", ")))")
                        }
                        guard ref.stage != spec.name else { throw PipelineError(value.at, "a stage cannot read itself") }
                        if !dependencies.contains(ref.stage) { dependencies.append(ref.stage) }
                    } else {
                        _ = try chain.stageDirectories(ref, at: value.at)
                    }
                    refs.append((ref, value.at))
                }
                inputs.append((input.option, refs))
            }
            stages.append(PipelineStage(spec: spec, kind: kind, inputs: inputs, dependencies: dependencies))
        }
        self.stages = try Self.ordered(stages)
        for stage in self.stages {
            try PipelineValueCheck.check(stage, stage.kind.stage)
        }
    }

    public func stage(_ name: String) -> PipelineStage? { stages.first { $0.name == name } }

    /// Stages in dependency order; a cycle is an error naming its stages.
    private static func ordered(_ stages: [PipelineStage]) throws -> [PipelineStage] {
        var done = Set<String>(), out: [PipelineStage] = []
        var remaining = stages
        while !remaining.isEmpty {
            guard let next = remaining.firstIndex(where: { $0.dependencies.allSatisfy(done.contains) }) else {
                let cycle = remaining.map(\.name)
                throw PipelineError(remaining[0].spec.at, "the stages \(cycle.joined(separator: ", ")) depend on each other in a cycle")
            }
            let stage = remaining.remove(at: next)
            done.insert(stage.name)
            out.append(stage)
        }
        return out
    }

    /// The stage directory of each of a stage's inputs, by option.
    func inputDirectories(_ stage: PipelineStage) throws -> [(option: String, refs: [(ref: PipelineRef, stage: URL)])] {
        try stage.inputs.map { input in
            (input.option, try input.refs.flatMap { ref, at in try chain.stageDirectories(ref, at: at).map { (ref, $0) } })
        }
    }

    /// The file or directory a reference to `stageDirectory` means.
    func path(_ ref: PipelineRef, stageDirectory: URL) -> URL {
        if let path = ref.path { return stageDirectory.appendingPathComponent(path) }
        let kindName = ref.scope == .local ? stage(ref.stage)?.kind.name : (try? PipelineStageRecord.read(stageDirectory))??.kind
        if let main = kindName.flatMap({ PipelineStageKind.named($0, registry: registry) })?.mainFile {
            return stageDirectory.appendingPathComponent(main)
        }
        return stageDirectory
    }
}
