// `distributed: mpi`: run as one rank of a data-parallel job (docs/distributed.md). It says how a
// stage runs, not what it computes: the ranks together give the one-process result (to the
// tolerance of docs/distributed.md), and a job of two ranks killed mid-way resumes in one process.
// So the group encodes nothing, and is no part of the manifest's config or the cache key. The caller
// that runs the stage starts MPI (`StageInvocation.distributedMode`), never a plan.
import Foundation

public enum DistributedMode: String, Codable, CaseIterable, Sendable {
    case mpi
}

public struct DistributedGroup: ParameterGroup, Equatable {
    public var distributed: DistributedMode?

    public init() {}

    enum CodingKeys: String, CodingKey { case distributed }

    public init(from decoder: Decoder) throws {
        distributed = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(DistributedMode.self, forKey: .distributed)
    }

    public func encode(to encoder: Encoder) throws {
        _ = encoder.container(keyedBy: CodingKeys.self)
    }
}

/// Parameters of a stage that may run as a data-parallel job.
public protocol DistributedParameters: StageParameters {
    var parallel: DistributedGroup { get }
}
