import Foundation
import Testing

@testable import Checkpoints

/// Damaged files must give an error, never a crash: every reader is fed seeded random damage
/// (bytes overwritten, runs deleted, the end cut off) of each fixture kind.
@Suite struct CorruptionTests {
  /// A small deterministic generator (SplitMix64), so that a failure can be replayed.
  struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
  }

  static let iterations =
    Int(ProcessInfo.processInfo.environment["CORRUPTION_ITERATIONS"] ?? "")
    ?? 150

  @Test(
    arguments: [
      "views.pth", "views_legacy.pth", "forbidden.pth", "reference.safetensors",
      "resnet6_dropout_legacy.pth", "resnet6.pth", "old_dataparallel_legacy.pth",
    ])
  func damagedFilesGiveErrors(name: String) throws {
    let original = try [UInt8](Data(contentsOf: FixturePaths.fixture(name)))
    var random = SplitMix(state: UInt64(name.utf8.count) &* 7919)
    var accepted = 0
    for iteration in 0..<Self.iterations {
      var bytes = original
      switch iteration % 3 {
      case 0:
        for _ in 0..<(1 + random.below(4)) {
          bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
        }
      case 1:
        let start = random.below(bytes.count)
        bytes.removeSubrange(start..<min(bytes.count, start + 1 + random.below(16)))
      default:
        bytes = Array(bytes.prefix(random.below(bytes.count)))
      }
      do {
        if name.hasSuffix(".safetensors") {
          _ = try SafetensorsFile(bytes: bytes, path: name)
        } else {
          _ = try PyTorchCheckpoint(bytes: bytes, path: name)
        }
        accepted += 1  // damage in tensor data itself cannot be seen, and is allowed
      } catch {
        #expect(error.path == name)
        #expect(!error.reason.isEmpty)
      }
    }
    // Most damage must be caught.
    #expect(accepted < Self.iterations / 2, "\(accepted) of \(Self.iterations) damaged files read")
  }

  @Test func anArchiveThatUnpacksBeyondTheLimitIsRefusedBeforeReading() throws {
    let entries = [
      ZipArchive.Entry(name: "a/data.pkl", contents: [UInt8](repeating: 7, count: 600)),
      ZipArchive.Entry(name: "a/data/0", contents: [UInt8](repeating: 1, count: 400)),
    ]
    let archive = try ZipArchive.archive(entries, path: "a.pth")

    // The records together claim 1000 bytes: at the limit they are read, above it refused.
    let read = try ZipArchive.entries(of: archive, path: "a.pth", unpackedLimit: 1000)
    #expect(read.map(\.contents) == entries.map(\.contents))
    expectCheckpointError(.unsupported, mentioning: "torch.save stores its records uncompressed") {
      _ = try ZipArchive.entries(of: archive, path: "a.pth", unpackedLimit: 999)
    }
    // By default the limit is half the machine's memory, far above a real checkpoint.
    #expect(ZipArchive.defaultUnpackedLimit >= 1 << 30)
  }
}
