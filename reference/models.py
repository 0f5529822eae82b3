"""The course's models, written once against a torch-like `nn` so torch and minigrad build the same thing.

`torch_model("mlp")` builds it with torch.nn, `minigrad_model("mlp")` with minigrad.nn; `reference.convert`'s
`copy_weights` moves weights between the two in either direction (same state_dict keys and layouts).
"""
from types import SimpleNamespace


def define(nn):
    """The model classes, built on the given nn module (torch.nn or minigrad.nn)."""

    class BinaryNet(nn.Module):
        """784-64-1, LeakyReLU + Sigmoid: the 1-vs-7 classifier (50,305 parameters)."""

        def __init__(self, in_features=784, hidden=64):
            super().__init__()
            self.fc1 = nn.Linear(in_features, hidden)
            self.act = nn.LeakyReLU()
            self.fc2 = nn.Linear(hidden, 1)
            self.out = nn.Sigmoid()

        def forward(self, x):
            return self.out(self.fc2(self.act(self.fc1(x.view(x.size(0), -1)))))

    class FeedforwardNN(nn.Module):
        """784-128-64-10 with Dropout(0.2) after each hidden ReLU (the Fashion-MNIST exercise)."""

        def __init__(self, p=0.2):
            super().__init__()
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 64)
            self.fc3 = nn.Linear(64, 10)
            self.relu = nn.ReLU()
            self.dropout1 = nn.Dropout(p)
            self.dropout2 = nn.Dropout(p)

        def forward(self, x):
            x = self.flatten(x)
            x = self.dropout1(self.relu(self.fc1(x)))
            x = self.dropout2(self.relu(self.fc2(x)))
            return self.fc3(x)

    class NeuralNetwork(nn.Module):
        """784-512-512-10 ReLU (the PyTorch quickstart network)."""

        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10),
            )

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    class MLP(nn.Module):
        """784-500-300-10 ReLU (Hinton 2005; LeCun's table lists 1.53% test error with weight decay)."""

        def __init__(self, sizes=(784, 500, 300, 10), activation=None):
            super().__init__()
            layers = []
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
                layers.append(nn.Linear(a, b))
                if i < len(sizes) - 2:
                    layers.append(activation() if activation is not None else nn.ReLU())
            self.net = nn.Sequential(*layers)

        def forward(self, x):
            return self.net(x.view(x.size(0), -1))

    class NeuralNet1(nn.Module):
        """784-h-1 + sigmoid (binary)."""

        def __init__(self, input_size=784, hidden_size=64):
            super().__init__()
            self.linear1 = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()
            self.linear2 = nn.Linear(hidden_size, 1)

        def forward(self, x):
            return self.linear2(self.relu(self.linear1(x))).sigmoid()

    class NeuralNet2(nn.Module):
        """784-h-C (multi-class logits)."""

        def __init__(self, input_size=784, hidden_size=64, num_classes=10):
            super().__init__()
            self.linear1 = nn.Linear(input_size, hidden_size)
            self.relu = nn.ReLU()
            self.linear2 = nn.Linear(hidden_size, num_classes)

        def forward(self, x):
            return self.linear2(self.relu(self.linear1(x)))

    return SimpleNamespace(BinaryNet=BinaryNet, FeedforwardNN=FeedforwardNN, NeuralNetwork=NeuralNetwork, MLP=MLP,
                           NeuralNet1=NeuralNet1, NeuralNet2=NeuralNet2)


NAMES = {"binary": "BinaryNet", "feedforward": "FeedforwardNN", "quickstart": "NeuralNetwork", "mlp": "MLP",
         "net1": "NeuralNet1", "net2": "NeuralNet2"}
_cache = {}


def classes(engine):
    """Model classes for engine 'torch' or 'minigrad' (defined once per process)."""
    if engine not in _cache:
        if engine == "torch":
            import torch.nn as nn
        elif engine == "minigrad":
            import minigrad.nn as nn
        else:
            raise ValueError(f"unknown engine {engine!r}: use 'minigrad' or 'torch'")
        _cache[engine] = define(nn)
    return _cache[engine]


def build(engine, name, **kwargs):
    """Instantiate model `name` (a key of NAMES or a class name) for the engine."""
    cls_name = NAMES.get(name, name)
    return getattr(classes(engine), cls_name)(**kwargs)


def torch_model(name, **kwargs):
    return build("torch", name, **kwargs)


def minigrad_model(name, **kwargs):
    return build("minigrad", name, **kwargs)
