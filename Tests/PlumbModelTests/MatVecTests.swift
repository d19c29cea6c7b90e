// The decoding kernels against their references: the matrix-vector kernel and the pooled product
// groups against a Double-accumulated triple loop, the kernel's independence of batch and split
// (bit for bit), and the thread pool's chunk accounting.
import Foundation
import PlumbTensor
import XCTest

final class MatVecTests: XCTestCase {
    /// max |fast - reference| / (sum_i |w_oi x_ri| + |y_old|). Rounding a k-term float sum errs by
    /// about sqrt(k) * 2^-24 of that scale (2e-6 at k = 768) and at worst k * 2^-24; the tests allow 1e-5.
    func worstRelativeError(_ fast: [Float], _ reference: [Float], bound: [Float]) -> Float {
        zip(zip(fast, reference), bound).map { abs($0.0 - $0.1) / max($1, 1e-30) }.max() ?? 0
    }

    /// sum_i |w_oi x_ri| + |y_ri| for every output (the scale of its rounding error).
    func magnitudes(w: Tensor, x: Tensor, y: [Float], n: Int, k: Int, out: Int) -> [Float] {
        (0..<n * out).map { j in
            let r = j / out, o = j % out
            return (0..<k).reduce(abs(y[j])) { $0 + abs(w.pointer[o * k + $1] * x.pointer[r * k + $1]) }
        }
    }

    func testKernelMatchesReference() {
        var rng = TestRandom(1)
        for (n, k, out) in [(1, 288, 37), (2, 768, 20), (3, 13, 9), (5, 64, 4), (4, 7, 3), (6, 123, 9), (1, 59, 5)] {
            let w = rng.tensor([out, k]), x = rng.tensor([n, k]), old = rng.tensor([n, out])
            for accumulate in [false, true] {
                let fast = Tensor(zeros: [n, out]), slow = Tensor(zeros: [n, out])
                fast.pointer.update(from: old.pointer, count: n * out); slow.pointer.update(from: old.pointer, count: n * out)
                MatVec.kernel(weight: w.pointer, inFeatures: k, x: x.pointer, rows: n, y: fast.pointer, ldy: out,
                              outputs: 0..<out, accumulate: accumulate)
                MatVec.reference(weight: w.pointer, inFeatures: k, x: x.pointer, rows: n, y: slow.pointer, ldy: out,
                                 outputs: 0..<out, accumulate: accumulate)
                let bound = magnitudes(w: w, x: x, y: accumulate ? old.array : [Float](repeating: 0, count: n * out), n: n, k: k, out: out)
                XCTAssertLessThan(worstRelativeError(fast.array, slow.array, bound: bound), 1e-5, "n \(n) k \(k) out \(out) accumulate \(accumulate)")
            }
        }
    }

    /// A row's outputs are the same bits whether it is decoded alone or with others, and however the
    /// weight rows are split between chunks.
    func testKernelIsIndependentOfBatchAndSplit() {
        var rng = TestRandom(2)
        let out = 23
        // k = 123 and 59 leave 8-float slices past the last 32 (they go to partial 0) and a scalar tail;
        // n = 5 takes the two-weight-row path, n = 3 the one-row path, a row alone `dot`.
        for (n, k) in [(5, 100), (5, 123), (3, 123), (5, 59), (3, 32), (5, 7)] {
            let w = rng.tensor([out, k]), x = rng.tensor([n, k])
            let batched = Tensor(zeros: [n, out])
            MatVec.kernel(weight: w.pointer, inFeatures: k, x: x.pointer, rows: n, y: batched.pointer, ldy: out, outputs: 0..<out, accumulate: false)
            for r in 0..<n {
                let alone = Tensor(zeros: [1, out])
                for split in [0..<3, 3..<10, 10..<11, 11..<23] {   // chunks that cut the 4-row blocks differently
                    MatVec.kernel(weight: w.pointer, inFeatures: k, x: x.pointer + r * k, rows: 1, y: alone.pointer, ldy: out,
                                  outputs: split, accumulate: false)
                }
                XCTAssertEqual(alone.array.map(\.bitPattern), Array(batched.array[r * out..<(r + 1) * out]).map(\.bitPattern),
                               "n \(n) k \(k) row \(r)")
            }
        }
    }

    /// The AVX-512 build of the kernel (four weight rows against two rows of x) gives the eight-float
    /// build's bits for every shape: widths with and without a trailing 8-float slice and a scalar
    /// tail, one to many rows, every remainder of outputs past the four-row tiles, both accumulate modes.
    /// (Skipped on a CPU without AVX-512, where `kernel` is the eight-float build itself.)
    func testAVX512KernelGivesTheEightFloatBits() throws {
        try XCTSkipUnless(MatVec.usesAVX512, "no AVX-512 on this CPU (or PLUMB_MATVEC=avx2)")
        var rng = TestRandom(4)
        // 36 + 1, 36 + 2, 36 + 3 outputs: the four-row tiles, then a pair and a single output.
        for (n, k, out) in [(1, 288, 37), (2, 768, 38), (3, 123, 39), (4, 59, 37), (5, 64, 38), (6, 100, 39), (9, 7, 37),
                            (17, 24, 38), (50, 288, 39), (64, 8, 37), (1, 1, 38), (7, 300, 39)] {
            let w = rng.tensor([out, k]), x = rng.tensor([n, k]), old = rng.tensor([n, out])
            for accumulate in [false, true] {
                let wide = Tensor(zeros: [n, out]), narrow = Tensor(zeros: [n, out])
                wide.pointer.update(from: old.pointer, count: n * out); narrow.pointer.update(from: old.pointer, count: n * out)
                MatVec.kernel(weight: w.pointer, inFeatures: k, x: x.pointer, rows: n, y: wide.pointer, ldy: out,
                              outputs: 0..<out, accumulate: accumulate)
                MatVec.kernelAVX2(weight: w.pointer, inFeatures: k, x: x.pointer, rows: n, y: narrow.pointer, ldy: out,
                                  outputs: 0..<out, accumulate: accumulate)
                XCTAssertEqual(wide.array.map(\.bitPattern), narrow.array.map(\.bitPattern), "n \(n) k \(k) accumulate \(accumulate)")
            }
        }
    }

    /// Groups of products through the pool, on the kernel path (few rows) and the sgemm path (many).
    func testProductGroupsMatchReference() {
        var rng = TestRandom(3)
        let k = 96, outs = [300, 40, 1030]
        for n in [1, 3, MatVec.kernelRows + 1, 40] {
            let x = rng.tensor([n, k])
            let weights = outs.map { rng.tensor([$0, k]) }
            let olds = outs.map { rng.tensor([n, $0]) }
            for accumulate in [false, true] {
                let ys = zip(outs, olds).map { out, old -> Tensor in
                    let y = Tensor(zeros: [n, out]); y.pointer.update(from: old.pointer, count: n * out); return y
                }
                MatVec.products(x: x.pointer, rows: n, inFeatures: k, zip(weights, ys).map {
                    MatVec.Product(weight: $0.pointer, out: $1.pointer, outFeatures: $0.shape[0], accumulate: accumulate)
                })
                for j in 0..<outs.count {
                    let slow = Tensor(zeros: [n, outs[j]])
                    slow.pointer.update(from: olds[j].pointer, count: n * outs[j])
                    MatVec.reference(weight: weights[j].pointer, inFeatures: k, x: x.pointer, rows: n, y: slow.pointer, ldy: outs[j],
                                     outputs: 0..<outs[j], accumulate: accumulate)
                    let bound = magnitudes(w: weights[j], x: x, y: accumulate ? olds[j].array : [Float](repeating: 0, count: n * outs[j]),
                                           n: n, k: k, out: outs[j])
                    XCTAssertLessThan(worstRelativeError(ys[j].array, slow.array, bound: bound), 1e-5, "n \(n) product \(j) accumulate \(accumulate)")
                }
            }
        }
    }

    /// Every chunk runs exactly once, on a valid thread index, across many jobs, after the workers
    /// have gone to sleep, and when a chunk calls the pool again (nested calls run inline).
    func testThreadPoolRunsEveryChunkOnce() {
        let pool = ThreadPool.shared
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1000)
        defer { counts.deallocate() }
        func job(_ chunks: Int) -> Bool {
            counts.update(repeating: 0)
            var badThread = false
            pool.forEach(chunks: chunks) { c, thread in
                counts[c] += 1
                if thread < 0 || thread >= pool.threads { badThread = true }
            }
            return !badThread && counts[0..<chunks].allSatisfy { $0 == 1 } && counts[chunks...].allSatisfy { $0 == 0 }
        }
        for round in 0..<2000 { XCTAssertTrue(job(1 + round % 97), "round \(round)") }
        Thread.sleep(forTimeInterval: 0.05)   // long enough for idle workers to sleep
        XCTAssertTrue(job(500))
        let nested = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8 * 8)
        defer { nested.deallocate() }
        nested.update(repeating: 0)
        pool.forEach(chunks: 8) { outer, _ in
            pool.forEach(chunks: 8) { inner, _ in nested[outer * 8 + inner] += 1 }
        }
        XCTAssertTrue(nested.allSatisfy { $0 == 1 })
    }

    /// Moving weights onto huge pages keeps every value, and products over them are unchanged.
    func testHugePagesKeepTheWeights() {
        var rng = TestRandom(6)
        let w = rng.tensor([4096, 288])   // 4.7 MB: at least one aligned 2 MB page
        let before = w.array.map(\.bitPattern)
        let x = rng.tensor([1, 288]), y0 = Tensor(zeros: [1, 4096]), y1 = Tensor(zeros: [1, 4096])
        MatVec.kernel(weight: w.pointer, inFeatures: 288, x: x.pointer, rows: 1, y: y0.pointer, ldy: 4096, outputs: 0..<4096, accumulate: false)
        _ = MatVec.preferHugePages(w.storage)   // refused on some systems; the data must survive either way
        XCTAssertEqual(w.array.map(\.bitPattern), before)
        MatVec.kernel(weight: w.pointer, inFeatures: 288, x: x.pointer, rows: 1, y: y1.pointer, ldy: 4096, outputs: 0..<4096, accumulate: false)
        XCTAssertEqual(y1.array.map(\.bitPattern), y0.array.map(\.bitPattern))
    }
}
