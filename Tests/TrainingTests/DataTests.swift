/// The epoch plan, the image pool, the seeded streams and the loader over real folders.
import Foundation
import ImageIO
import Tensors
import Testing

@testable import Training

@Suite struct EpochPlanTests {
  @Test func coversTheLargerFolderOncePerEpoch() {
    var random = RandomGenerator(seed: 7, stream: .loader, counter: 1)
    let plan = EpochPlan(
      countA: 5, countB: 12, batchSize: 5, serial: false, flip: true, random: &random)
    #expect(plan.batches.map(\.count) == [5, 5, 2])
    let samples = plan.batches.flatMap { $0 }
    #expect(samples.count == 12)
    // A is visited as index mod |A| of a permutation of 0..<12: 0...1 three times, 2...4 twice.
    let visits = Dictionary(grouping: samples.map(\.indexA), by: { $0 }).mapValues(\.count)
    #expect(visits == [0: 3, 1: 3, 2: 2, 3: 2, 4: 2])
    #expect(samples.allSatisfy { (0..<12).contains($0.indexB) })
    #expect(Set(samples.map(\.indexB)).count > 3)
    #expect(
      samples.contains { $0.augmentationA.flip } && samples.contains { !$0.augmentationA.flip })
  }

  @Test func serialBatchesTakeBothFoldersInOrder() {
    var random = RandomGenerator(seed: 7, stream: .loader, counter: 1)
    let plan = EpochPlan(
      countA: 4, countB: 3, batchSize: 1, serial: true, flip: false, random: &random)
    let samples = plan.batches.flatMap { $0 }
    #expect(samples.map(\.indexA) == [0, 1, 2, 3])
    #expect(samples.map(\.indexB) == [0, 1, 2, 0])
    #expect(samples.allSatisfy { !$0.augmentationA.flip && !$0.augmentationB.flip })
  }

  @Test func isFixedBySeedAndEpoch() {
    func plan(seed: UInt64, epoch: UInt64) -> EpochPlan {
      var random = RandomGenerator(seed: seed, stream: .loader, counter: epoch)
      return EpochPlan(
        countA: 20, countB: 30, batchSize: 2, serial: false, flip: true, random: &random)
    }
    #expect(plan(seed: 3, epoch: 2) == plan(seed: 3, epoch: 2))
    #expect(plan(seed: 3, epoch: 2) != plan(seed: 3, epoch: 3))
    #expect(plan(seed: 3, epoch: 2) != plan(seed: 4, epoch: 2))
  }
}

@Suite struct RandomStreamTests {
  @Test func boundedDrawsAreUniform() {
    var random = RandomGenerator(seed: 11, stream: .loader)
    var counts = [Int](repeating: 0, count: 6)
    for _ in 0..<60_000 { counts[random.int(in: 0...5)] += 1 }
    // Each count is binomial(60000, 1/6): mean 10000, sd 91; 6 sd either side.
    #expect(counts.allSatisfy { abs($0 - 10_000) < 550 }, "counts \(counts)")
  }

  @Test func permutationsHoldEveryIndexOnce() {
    var random = RandomGenerator(seed: 5, stream: .loader)
    let order = random.permutation(100)
    #expect(order.sorted() == Array(0..<100))
    #expect(order != Array(0..<100))
  }
}

@Suite struct ImagePoolTests {
  /// A batch `[1, 1, 1, 2]` whose elements identify it.
  func fake(_ id: Int) -> Tensor { Tensor(shape: [1, 1, 1, 2], scalars: [Float(id), -Float(id)]) }

  @Test func sizeZeroReturnsTheInput() {
    var pool = ImagePool(capacity: 0)
    var random = RandomGenerator(seed: 1)
    let out = pool.query(fake(3), random: &random)
    #expect(out.scalars == [3, -3])
    #expect(pool.images.isEmpty)
  }

  @Test func returnsNewImagesUntilFullThenSwapsAboutHalf() {
    var pool = ImagePool(capacity: 50)
    var random = RandomGenerator(seed: 1)
    for id in 0..<50 {
      #expect(pool.query(fake(id), random: &random).scalars == [Float(id), -Float(id)])
    }
    #expect(pool.images.count == 50)

    var stored = Set(0..<50)
    var swaps = 0
    for id in 50..<2050 {
      let returned = Int(pool.query(fake(id), random: &random).scalars[0])
      if returned != id {
        // A swap hands back an image stored earlier and keeps the new one instead.
        #expect(stored.contains(returned))
        stored.remove(returned)
        stored.insert(id)
        swaps += 1
      }
      #expect(pool.images.count == 50)
    }
    #expect(Set(pool.images.map { Int($0.scalars[0]) }) == stored)
    // Binomial(2000, 1/2): mean 1000, sd 22; 6 sd either side.
    #expect(abs(swaps - 1000) < 135, "swaps \(swaps)")
  }

  @Test func poolsBatchesImageByImage() {
    var pool = ImagePool(capacity: 3)
    var random = RandomGenerator(seed: 2)
    let batch = Tensor(shape: [2, 1, 1, 2], scalars: [1, -1, 2, -2])
    #expect(pool.query(batch, random: &random).shape == [2, 1, 1, 2])
    #expect(pool.images.count == 2)
    _ = pool.query(batch, random: &random)
    #expect(pool.images.count == 3)
  }
}

@Suite struct LoaderTests {
  /// Writes `count` small PNGs of one grey level each into `folder/sub`.
  func writeImages(_ count: Int, into folder: String, level: (Int) -> Float) throws {
    let sub = folder + "/sub"
    try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
    for index in 0..<count {
      let image = Image(
        width: 12, height: 10, colorChannels: 3,
        pixels: [Float](repeating: level(index), count: 3 * 12 * 10))
      try image.write(to: FilePath(sub + "/\(index).png"), as: .png())
    }
  }

  @Test func loadsEpochsInTheBackgroundAndSkipsUnreadableFilesOnce() throws {
    let root = try makeScratchFolder("loader")
    defer { removeFolder(root) }
    try writeImages(3, into: root + "/A", level: { Float($0) / 4 })
    try writeImages(5, into: root + "/B", level: { 1 - Float($0) / 8 })
    // A file named like an image that is not one: reported once, then passed over.
    try Data("not a png".utf8).write(to: URL(fileURLWithPath: root + "/A/sub/9.png"))

    var options = TrainingOptions(folderA: root + "/A", folderB: root + "/B", name: "t")
    options.loadSize = 12
    options.cropSize = 8
    options.batchSize = 2
    let reports = MessageBuffer()
    let dataset = try UnalignedDataset(options: options, report: { reports.append($0) })
    #expect(dataset.imagesA.count == 4)
    #expect(dataset.imagesB.count == 5)

    for epoch in 1...2 {
      var random = RandomGenerator(seed: 0, stream: .loader, counter: UInt64(epoch))
      let plan = EpochPlan(
        countA: 4, countB: 5, batchSize: 2, serial: false, flip: true, random: &random)
      let loader = dataset.epoch(plan)
      var batches = 0
      while let batch = try loader.next() {
        batches += 1
        #expect(batch.realA.shape.dropFirst() == [3, 8, 8])
        #expect(batch.realB.shape.dropFirst() == [3, 8, 8])
        #expect(!batch.pathsA.contains { "\($0)".hasSuffix("9.png") })
        // Each sample is one flat grey level mapped to [-1, 1].
        let level = batch.realA.scalars[0]
        #expect(batch.realA.scalars.prefix(3 * 64).allSatisfy { abs($0 - level) < 1e-5 })
      }
      #expect(batches == 3)
    }
    #expect(reports.lines.filter { $0.contains("9.png") }.count == 1, "\(reports.lines)")
    // The path is named once, then the reason.
    let skipped = "skipped \(root)/A/sub/9.png: not a PNG or JPEG file"
    #expect(reports.lines.contains { $0.hasPrefix(skipped) }, "\(reports.lines)")
  }

  @Test func refusesMissingAndEmptyFolders() throws {
    let root = try makeScratchFolder("empty")
    defer { removeFolder(root) }
    let options = TrainingOptions(folderA: root, folderB: root + "/nothing", name: "t")
    #expect(throws: TrainingError.emptyFolder(path: root)) {
      try UnalignedDataset(options: options, report: { _ in })
    }
    try writeImages(1, into: root, level: { _ in 0.5 })
    #expect(throws: TrainingError.missingFolder(path: root + "/nothing")) {
      try UnalignedDataset(options: options, report: { _ in })
    }
  }
}
