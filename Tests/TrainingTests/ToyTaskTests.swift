/// A short training on an unpaired task whose true mapping is known: A holds dark images with
/// bright rectangles, B the colour-inverted versions of *other* such images (the folders share
/// no image). G_A should learn inversion, x ↦ −x in [−1, 1]; its error against that mapping
/// must fall well below its starting value.
import Foundation
import ImageIO
import Tensors
import Testing

@testable import Training

/// A 16×16 dark image with two bright rectangles of random colours, drawn from `random`.
func toyImage(_ random: inout RandomGenerator) -> Image {
  let side = 16
  var pixels = [Float](repeating: 0, count: 3 * side * side)
  for channel in 0..<3 {
    let background = 0.1 + 0.1 * Float(random.nextUniformDouble())
    for index in 0..<(side * side) { pixels[channel * side * side + index] = background }
  }
  for _ in 0..<2 {
    let y = random.int(in: 0...11)
    let x = random.int(in: 0...11)
    let height = random.int(in: 3...6)
    let width = random.int(in: 3...6)
    for channel in 0..<3 {
      let level = 0.6 + 0.4 * Float(random.nextUniformDouble())
      for row in y..<min(side, y + height) {
        for column in x..<min(side, x + width) {
          pixels[(channel * side + row) * side + column] = level
        }
      }
    }
  }
  return Image(width: side, height: side, colorChannels: 3, pixels: pixels)
}

@Suite struct ToyTaskTests {
  @Test func learnsColourInversionFromUnpairedFolders() throws {
    let root = try makeScratchFolder("toy")
    defer { removeFolder(root) }
    for folder in ["A", "B"] {
      try FileManager.default.createDirectory(
        atPath: root + "/" + folder, withIntermediateDirectories: true)
    }

    // Even images go to A as they are, odd ones to B inverted.
    var random = RandomGenerator(seed: 99)
    for index in 0..<32 {
      var image = toyImage(&random)
      if index % 2 == 1 { image.pixels = image.pixels.map { 1 - $0 } }
      try image.write(
        to: FilePath(root + "/\(index % 2 == 0 ? "A" : "B")/\(index).png"), as: .png())
    }

    var options = TrainingOptions(folderA: root + "/A", folderB: root + "/B", name: "toy")
    options.checkpointsDirectory = root + "/runs"
    options.preprocess = .crop
    options.cropSize = 16
    options.flip = false
    options.ngf = 8
    options.ndf = 8
    options.generator = .resnet6Blocks
    options.discriminator = .pixel
    options.lambdaIdentity = 0
    options.learningRate = 0.002
    options.epochs = 5
    options.decayEpochs = 0
    options.sampleFrequency = 1000
    options.latestFrequency = 1000
    let trainer = try Trainer(options: options, resume: false)
    trainer.handlesSignals = false

    // G_A's mean absolute error against inversion over every A image.
    let images = try FileManager.default.contentsOfDirectory(atPath: root + "/A").sorted().map {
      try Image(contentsOf: FilePath(root + "/A/" + $0)).tensor(channels: 3)
    }
    func inversionError() -> Float {
      withoutGradients {
        let errors = images.map { real in
          zip(trainer.model.generatorA(real).scalars, real.scalars).map { abs($0 + $1) }
            .reduce(0, +) / Float(real.count)
        }
        return errors.reduce(0, +) / Float(errors.count)
      }
    }

    let before = inversionError()
    #expect(try trainer.run() == .finished)
    let after = inversionError()
    #expect(before > 0.5, "error before training \(before)")
    #expect(after < 0.5 * before, "error against inversion: \(before) before, \(after) after")
  }
}
