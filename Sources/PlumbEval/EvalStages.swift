// Every stage kind of the standard build: PlumbStages' kinds and this library's (the built-in task and
// the oracle's evaluation). One registration line per kind.
import PlumbStages

extension StageRegistry {
    public static let standard = StageRegistry.stages.adding([
        TaskGenerateStage.self,
        TaskMonthStage.self,
        TaskAnnotateStage.self,
        TaskAnnotateComparisonsStage.self,
        OracleEvalStage.self,
        PolicySelectionStage.self,
    ])
}
