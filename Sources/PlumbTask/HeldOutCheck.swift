// The held-out split's check, shared by `plumb task audit` (a generated task's files) and `plumb task
// month` (a month's prompt sets): evaluation prompts use a held-out wording or entity
// (`PromptSpec.isHeldOut`), training prompts use neither and no validation entity, validation prompts
// no held-out wording or entity, and no evaluation prompt appears verbatim among the others.

public enum HeldOutCheck {
    /// Evaluation prompts found verbatim among `training` (must be 0).
    public static func evalInTraining(eval: [String], training: Set<String>) -> Int {
        eval.filter(training.contains).count
    }

    /// Evaluation prompts that are not held out: no held-out wording or entity, or not a prompt of the world (must be 0).
    public static func evalNotHeldOut(_ eval: [String]) -> Int {
        eval.filter { !(TaskPrompts.parse($0)?.isHeldOut ?? false) }.count
    }

    /// Training prompts that use a held-out wording, a held-out or validation entity, or are not
    /// prompts of the world (must be 0).
    public static func trainingHeldOut(_ training: [String]) -> Int {
        training.filter { !(TaskPrompts.parse($0)?.isTraining ?? false) }.count
    }

    /// Validation prompts that use a held-out wording or entity, or are not prompts of the world (must be 0).
    public static func validationHeldOut(_ validation: [String]) -> Int {
        validation.filter { TaskPrompts.parse($0)?.isHeldOut ?? true }.count
    }
}
