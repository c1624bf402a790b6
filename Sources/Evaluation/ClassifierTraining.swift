/// Training the domain classifier with Adam on real photos of both domains.
import Foundation
import ImageIO
import NeuralNet
import Tensors

/// How the classifier is trained.
public struct ClassifierTrainingOptions: Sendable, Equatable {
  /// Passes over the larger of the two domains.
  public var epochs: Int
  /// Images per step, half from each domain.
  public var batchSize: Int
  /// Adam's step size at the start; it falls to zero along a cosine over the epochs.
  public var learningRate: Double
  /// Seeds the initial weights, the order of the images and the augmentation.
  public var seed: UInt64

  public init(epochs: Int = 10, batchSize: Int = 32, learningRate: Double = 2e-3, seed: UInt64 = 0)
  {
    precondition(
      epochs > 0 && batchSize >= 2 && batchSize % 2 == 0 && learningRate > 0,
      "classifier training: epochs \(epochs) and an even batch size \(batchSize) ≥ 2 and a "
        + "positive learning rate \(learningRate) are needed")
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.seed = seed
  }

  /// The options as strings, for the classifier's `config.json`.
  public var record: [String: String] {
    [
      "epochs": String(epochs), "batch_size": String(batchSize),
      "learning_rate": String(learningRate), "seed": String(seed), "optimizer": "adam",
      "lr_policy": "cosine", "augmentation": "random crop from load_size, horizontal flip",
    ]
  }
}

/// What one epoch of training did.
public struct ClassifierEpochReport: Sendable {
  /// From 1.
  public var epoch: Int
  public var epochs: Int
  /// The mean binary cross-entropy of the epoch's steps.
  public var loss: Double
  /// The fraction of the epoch's (augmented) training images called rightly.
  public var trainingAccuracy: Double
  /// The learning rate the epoch used.
  public var learningRate: Double
}

/// Trains a domain classifier on `imagesA` (label 0) and `imagesB` (label 1), each already
/// resized to `configuration.loadSize`² (`configuration.loaded(_:)`).
///
/// Each step takes `batchSize / 2` images of each domain, so the classes weigh the same
/// whatever their counts; an epoch has as many steps as the larger domain needs, the smaller
/// one being reshuffled when used up. Each image is cut at a random `imageSize`² position and
/// flipped left to right half the time. Weights start from Kaiming normal draws; the loss is
/// binary cross-entropy on the logits; Adam's rate follows a cosine from `learningRate` to 0.
public func trainClassifier(
  imagesA: [Image], imagesB: [Image], configuration: ClassifierConfiguration,
  options: ClassifierTrainingOptions, onEpoch: (ClassifierEpochReport) -> Void = { _ in }
) -> DomainClassifier {
  precondition(
    !imagesA.isEmpty && !imagesB.isEmpty,
    "trainClassifier needs images of both domains, got \(imagesA.count) and \(imagesB.count)")
  let loadSize = configuration.loadSize
  precondition(
    (imagesA + imagesB).allSatisfy { $0.width == loadSize && $0.height == loadSize },
    "trainClassifier: every image must be \(loadSize)×\(loadSize) (configuration.loaded)")

  var generator = RandomGenerator(seed: options.seed)
  let classifier = DomainClassifier(configuration)
  Initialization(scheme: .kaiming).apply(to: classifier, using: &generator)
  classifier.setTraining(true)
  let optimizer = Adam(
    parameters: classifier.namedParameters(), learningRate: options.learningRate)
  var schedule = LearningRateSchedule(
    baseLearningRate: options.learningRate,
    policy: .cosine(periodEpochs: options.epochs, minimum: 0))

  let half = options.batchSize / 2
  let stepsPerEpoch = max(1, (max(imagesA.count, imagesB.count) + half - 1) / half)
  var orderA = ShuffledOrder(count: imagesA.count)
  var orderB = ShuffledOrder(count: imagesB.count)
  let labels = Tensor(
    shape: [options.batchSize],
    scalars: [Float](repeating: 0, count: half) + [Float](repeating: 1, count: half))

  for epoch in 1...options.epochs {
    optimizer.learningRate = schedule.learningRate
    var lossSum = 0.0
    var correct = 0
    for _ in 0..<stepsPerEpoch {
      // A batch [batchSize, C, S, S]: half A, then half B.
      var inputs: [Tensor] = []
      for _ in 0..<half {
        inputs.append(augmented(imagesA[orderA.next(using: &generator)], &generator))
      }
      for _ in 0..<half {
        inputs.append(augmented(imagesB[orderB.next(using: &generator)], &generator))
      }
      let batch = concatenate(inputs, alongAxis: 0)

      let logits = classifier.logits(batch)
      let loss = binaryCrossEntropyWithLogits(logits, labels)
      loss.backward()
      optimizer.step()
      optimizer.clearGradients()

      lossSum += Double(loss.scalar)
      for (index, logit) in logits.scalars.enumerated() where (logit > 0) == (index >= half) {
        correct += 1
      }
    }
    onEpoch(
      ClassifierEpochReport(
        epoch: epoch, epochs: options.epochs, loss: lossSum / Double(stepsPerEpoch),
        trainingAccuracy: Double(correct) / Double(stepsPerEpoch * options.batchSize),
        learningRate: optimizer.learningRate))
    schedule.step()
  }

  classifier.setTraining(false)
  return classifier

  /// A random `imageSize`² crop, flipped half the time: `[1, C, S, S]`.
  func augmented(_ image: Image, _ generator: inout RandomGenerator) -> Tensor {
    let side = configuration.imageSize
    let range = loadSize - side + 1
    let x = Int(generator.next() % UInt64(range))
    let y = Int(generator.next() % UInt64(range))
    var crop = image.cropped(x: x, y: y, width: side, height: side)
    if generator.next() & 1 == 1 { crop = crop.flippedHorizontally() }
    return crop.tensor(channels: configuration.channels)
  }
}

/// Indices `0..<count` handed out in a random order, reshuffled after each full pass.
struct ShuffledOrder {
  private var order: [Int]
  private var position: Int

  init(count: Int) {
    order = Array(0..<count)
    position = count
  }

  mutating func next(using generator: inout RandomGenerator) -> Int {
    if position == order.count {
      order.shuffle(using: &generator)
      position = 0
    }
    defer { position += 1 }
    return order[position]
  }
}

/// The accuracy of `classifier` on real images: `inputsA` should be called A, `inputsB` B
/// (each input `[1, C, S, S]`, as `ClassifierConfiguration.input(for:)` makes them).
public func measureAccuracy(
  of classifier: DomainClassifier, inputsA: [Tensor], inputsB: [Tensor]
) -> ClassifierAccuracy {
  let calledBFromA = classifier.callsDomainB(inputsA).filter { $0 }.count
  let calledBFromB = classifier.callsDomainB(inputsB).filter { $0 }.count
  return ClassifierAccuracy(
    correctA: inputsA.count - calledBFromA, countA: inputsA.count, correctB: calledBFromB,
    countB: inputsB.count)
}
