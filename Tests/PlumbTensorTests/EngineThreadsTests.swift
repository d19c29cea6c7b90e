// The engine's core count honours the process's CPU affinity: a process bound to fewer cores than
// the machine has (taskset, mpirun --bind-to core) runs that many threads.
import Foundation
import XCTest
@testable import PlumbTensor

final class EngineThreadsTests: XCTestCase {
    func testCoresFollowTheAffinityMask() throws {
        #if os(Linux)
        let allowed = try XCTUnwrap(EngineThreads.allowedCores(), "/proc/self/status has a Cpus_allowed mask")
        let online = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertGreaterThanOrEqual(allowed, 1)
        XCTAssertEqual(EngineThreads.cores, min(online, allowed))
        XCTAssertEqual(ThreadPool.shared.threads, EngineThreads.cores)
        // The mask's set bits are the cores listed in Cpus_allowed_list ("0-1", "0,2-3", ...).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let list = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
            .dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        let listed = list.split(separator: ",").reduce(0) { total, part in
            let ends = part.split(separator: "-").compactMap { Int($0) }
            return total + (ends.count == 2 ? ends[1] - ends[0] + 1 : 1)
        }
        XCTAssertEqual(allowed, listed, "Cpus_allowed against Cpus_allowed_list \(list)")
        #endif
    }
}
