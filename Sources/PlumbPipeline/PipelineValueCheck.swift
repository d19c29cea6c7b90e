// Checking a value kind's stage of a pipeline file before anything runs: every option is one of the
// stage's parameter keys and every input one of its slots (an input given as an option, or the
// reverse, is named as such), each slot has as many references as it takes, and the options decode
// into the stage's parameters. Errors name file:line: key and list what is accepted.
import Foundation
import PlumbStages

enum PipelineValueCheck {
    static func check(_ stage: PipelineStage, _ value: any Stage.Type) throws {
        let kind = stage.kind.name
        let parameters = try value.acceptedKeys(), slots = value.slots.map(\.name)
        for option in stage.spec.options where !parameters.contains(option.option) {
            let at = option.values.first?.at ?? stage.spec.at
            throw PipelineError(at, slots.contains(option.option)
                ? "`\(option.option)` is an input of \(kind), not an option: give it under inputs"
                : "\(kind) has no option `\(option.option)` (options: \(parameters.joined(separator: ", ")))")
        }
        for input in stage.inputs where !slots.contains(input.option) {
            let at = input.refs.first?.at ?? stage.spec.at
            throw PipelineError(at, parameters.contains(input.option)
                ? "`\(input.option)` is an option of \(kind), not an input: give it under options"
                : "\(kind) has no input `\(input.option)` (inputs: \(slots.joined(separator: ", ")))")
        }
        let placeholder = URL(fileURLWithPath: "/")
        let counted = StageInputs(Dictionary(stage.inputs.map { ($0.option, $0.refs.map { _ in placeholder }) }, uniquingKeysWith: +))
        do {
            try StageInvocation(stage: value, parameters: entries(stage.spec), inputs: counted).check()
        } catch let error as StageParameterError {
            let at = stage.inputs.first { $0.option == error.key }?.refs.first?.at ?? stage.spec.at
            throw PipelineError(at, error.message)
        } catch let error as ParameterDecodingError {
            throw PipelineError(error.description)
        }
    }

    /// The stage's options as parameter entries, each with its file and line.
    static func entries(_ spec: PipelineStageSpec) -> [ParameterEntry] {
        spec.options.map { option in
            let at = option.values.first?.at ?? spec.at
            return ParameterEntry(key: option.option, values: option.values.map(\.text), place: "\(at.file):\(at.line)")
        }
    }
}
