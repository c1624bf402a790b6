/// The options' defaults (the reference's) and the checks made before any work starts.
import Foundation
import Testing

@testable import Training

@Suite struct OptionsTests {
  @Test func defaultsAreTheReferences() {
    let options = TrainingOptions(folderA: "data/trainA", folderB: "data/trainB", name: "run")
    #expect(options.batchSize == 1 && options.loadSize == 286 && options.cropSize == 256)
    #expect(options.preprocess == .resizeAndCrop && options.flip)
    #expect(options.lambdaA == 10 && options.lambdaB == 10 && options.lambdaIdentity == 0.5)
    #expect(options.poolSize == 50 && options.ganMode == .lsgan)
    #expect(options.learningRate == 0.0002 && options.beta1 == 0.5 && options.beta2 == 0.999)
    #expect(options.epochs == 100 && options.decayEpochs == 100 && options.totalEpochs == 200)
    #expect(options.learningRatePolicy == .linear && options.decayIterations == 50)
    #expect(options.ngf == 64 && options.ndf == 64 && options.layersD == 3)
    #expect(options.generator == .resnet9Blocks && options.discriminator == .basic)
    #expect(options.normalization == .instance && !options.dropout)
    #expect(options.initialization == .normal && options.initializationGain == 0.02)
    #expect(options.epochFrequency == 5 && options.latestFrequency == 5000)
    #expect(options.domainA == "trainA" && options.domainB == "trainB")
    #expect(options.runDirectory == "checkpoints/run")
    #expect(throws: Never.self) { try options.validate() }
  }

  @Test func domainsAreNamedByTheFirstFolderNamesThatDiffer() {
    let cases: [(String, String, String, String)] = [
      ("data/trainA", "data/trainB/", "trainA", "trainB"),
      ("photos/horses/train", "photos/zebras/train", "horses", "zebras"),
      ("./summer/./images", "winter/images", "summer", "winter"),
      ("same", "same", "A", "B"),
      ("../x", "x", "A", "B"),
    ]
    for (folderA, folderB, domainA, domainB) in cases {
      let options = TrainingOptions(folderA: folderA, folderB: folderB, name: "run")
      #expect(
        (options.domainA, options.domainB) == (domainA, domainB), "\(folderA), \(folderB)")
    }
  }

  /// Option changes that `validate()` must refuse, with a word its message must contain.
  static let contradictions: [(change: String, mention: String)] = [
    ("crop larger than load", "--load-size"),
    ("crop not a multiple of 4", "multiple of 4"),
    ("batches of varied sizes", "cannot be stacked"),
    ("identity with grey A", "--lambda-identity 0"),
    ("two channels", "1 (grey) or 3"),
    ("patch too small", "too small"),
    ("name with a slash", "--name"),
    ("negative pool", "--pool-size"),
  ]

  @Test(arguments: contradictions)
  func rejectsContradictions(_ change: String, mention: String) {
    var options = TrainingOptions(folderA: "a", folderB: "b", name: "run")
    switch change {
    case "crop larger than load": options.cropSize = 300
    case "crop not a multiple of 4": options.cropSize = 254
    case "batches of varied sizes":
      options.preprocess = .scaleWidth
      options.batchSize = 2
    case "identity with grey A": options.inputChannels = 1
    case "two channels":
      options.outputChannels = 2
      options.lambdaIdentity = 0
    case "patch too small":
      options.loadSize = 16
      options.cropSize = 16
    case "name with a slash": options.name = "a/b"
    default: options.poolSize = -1
    }
    do {
      try options.validate()
      Issue.record("\(change): accepted")
    } catch {
      #expect(error.description.contains(mention), "\(change): \(error.description)")
    }
  }

  @Test func patchGANOutputSides() {
    // 256 → 128 → 64 → 32 → 31 → 30: the reference's 70×70 PatchGAN gives 30×30.
    #expect(TrainingOptions.patchSize(imageSize: 256, layers: 3) == 30)
    #expect(TrainingOptions.patchSize(imageSize: 32, layers: 3) == 2)
    #expect(TrainingOptions.patchSize(imageSize: 16, layers: 3) == 0)
  }

  @Test func roundTripsThroughJSON() throws {
    var options = TrainingOptions(folderA: "a", folderB: "b", name: "run")
    options.maxDatasetSize = 12
    options.seed = 99
    options.ganMode = .vanilla
    let data = try JSONEncoder().encode(options)
    #expect(try JSONDecoder().decode(TrainingOptions.self, from: data) == options)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"resize_and_crop\"") && text.contains("\"resnet_9blocks\""))
  }
}
