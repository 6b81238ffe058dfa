"""
The seed-style Python peer of `npm run bench`: Flask + PyTorch, served by gunicorn with 2 sync
workers and 1 PyTorch thread each (what a three-file Python MNIST server looks like). Not part of
the product or of CI: the bench starts it only when Debian's python3-torch, python3-flask,
python3-pil, python3-numpy and gunicorn are installed.

The same CNN with the same fixed weights as specserve's model-store/mnist/1 (read from its
model.json and weight shards here, no download): Conv 32 3x3 relu, Conv 64 3x3 relu, MaxPool 2,
Flatten (in Keras' H, W, C order), Dense 128 relu, Dense 10 softmax. Preprocessing as the seed
tutorials did it: grayscale, resize to 28x28, /255.

POST /mnist/classify (multipart field `file`) -> {"digit": d, "probabilities": [...]};
GET /v2/health/ready -> 200 (what the bench waits on).
"""
import io
import json
import os

import numpy as np
import torch
from flask import Flask, jsonify, request
from PIL import Image

torch.set_num_threads(1)
MODEL_DIR = os.environ.get("MNIST_MODEL_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "..", "model-store", "mnist", "1"))


def load_weights(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        manifest = json.load(f)["weightsManifest"]
    data = b"".join(open(os.path.join(model_dir, p), "rb").read() for group in manifest for p in group["paths"])
    weights, offset = {}, 0
    for spec in (w for group in manifest for w in group["weights"]):
        count = int(np.prod(spec["shape"]))
        weights[spec["name"]] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(spec["shape"])
        offset += count * 4
    return weights


class Cnn(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
        self.conv1 = torch.nn.Conv2d(1, 32, 3)
        self.conv2 = torch.nn.Conv2d(32, 64, 3)
        self.dense1 = torch.nn.Linear(12 * 12 * 64, 128)
        self.probs = torch.nn.Linear(128, 10)
        with torch.no_grad():
            self.conv1.weight.copy_(t(w["conv1/kernel"].transpose(3, 2, 0, 1)))
            self.conv1.bias.copy_(t(w["conv1/bias"]))
            self.conv2.weight.copy_(t(w["conv2/kernel"].transpose(3, 2, 0, 1)))
            self.conv2.bias.copy_(t(w["conv2/bias"]))
            self.dense1.weight.copy_(t(w["dense1/kernel"].T))
            self.dense1.bias.copy_(t(w["dense1/bias"]))
            self.probs.weight.copy_(t(w["probs/kernel"].T))
            self.probs.bias.copy_(t(w["probs/bias"]))

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        x = torch.nn.functional.max_pool2d(x, 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # Keras flattens H, W, C
        x = torch.relu(self.dense1(x))
        return torch.softmax(self.probs(x), dim=1)


model = Cnn(load_weights(MODEL_DIR)).eval()
app = Flask(__name__)


@app.route("/v2/health/ready")
def ready():
    return jsonify(ready=True)


@app.route("/mnist/classify", methods=["POST"])
def classify():
    upload = request.files.get("file")
    if upload is None:
        return jsonify(error="no file"), 400
    image = Image.open(io.BytesIO(upload.read())).convert("L").resize((28, 28))
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).reshape(1, 1, 28, 28)
    with torch.no_grad():
        probs = model(x)[0]
    return jsonify(digit=int(probs.argmax()), probabilities=probs.tolist())
