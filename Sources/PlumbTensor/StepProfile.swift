// Where a training step's time goes, by kind of kernel (`plumb bench train --profile`). Off unless a
// profile is installed: then the engine's entry points (Linear, gemm, attention, RMSNorm, RoPE,
// SwiGLU, embedding, the fused LM loss, clipping, AdamW, zeroing and copies) add their wall time to
// their phase. Only the outermost timed call on the calling (main) thread counts, so a kernel that
// calls another (attention's per-head sgemm, a pool job's row chunk) is charged once, to the outer one.
import Foundation

public enum StepPhase: String, CaseIterable, Sendable {
    case matmul, attention, norm, rope, swiglu, loss, embedding, clip, adamw, elementwise
}

public final class StepProfile: @unchecked Sendable {
    /// The profile being filled, or nil (timing off: one load and a branch per kernel call).
    nonisolated(unsafe) public static var current: StepProfile?

    public private(set) var seconds: [StepPhase: Double] = [:]
    private var depth = 0
    private var start: UInt64 = 0

    public init() {}

    /// Starts timing `phase` unless an outer timed call is running; pair with `end()` (in a defer).
    @inline(__always) public static func begin(_ phase: StepPhase) -> StepPhase? {
        guard let p = current, Thread.isMainThread else { return nil }
        p.depth += 1
        if p.depth == 1 { p.start = DispatchTime.now().uptimeNanoseconds }
        return phase
    }

    /// Ends what `begin` started; `phase` nil (timing was off or on another thread) does nothing.
    @inline(__always) public static func end(_ phase: StepPhase?) {
        guard let phase, let p = current else { return }
        p.depth -= 1
        if p.depth == 0 { p.seconds[phase, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - p.start) / 1e9 }
    }

    public func reset() { seconds = [:] }
}
