"""bentoml.artifact.with_mixin: a loaded model gains methods and stays its own type."""
from bentoml.artifact import with_mixin


class Model:
    """A framework's model."""

    def __init__(self, factor):
        self.factor = factor

    def predict(self, x):
        return [v * self.factor for v in x]

    def __setattr__(self, name, value):  # frameworks that track attributes (Keras) refuse __class__
        if name == "__class__":
            raise AttributeError("tracked")
        super().__setattr__(name, value)


class AcceptsScalars:
    def predict(self, x):
        return super().predict(x if isinstance(x, list) else [x])


def test_mixin_adds_behaviour_and_keeps_the_type():
    model = with_mixin(Model(3), AcceptsScalars)
    assert model.predict(2) == [6] and model.predict([1, 2]) == [3, 6]
    assert isinstance(model, Model) and isinstance(model, AcceptsScalars)
    assert (type(model).__name__, type(model).__qualname__, type(model).__module__) == \
        (Model.__name__, Model.__qualname__, Model.__module__)
    assert type(model).__doc__ == Model.__doc__


def test_one_class_per_pair_and_idempotent():
    a, b = with_mixin(Model(1), AcceptsScalars), with_mixin(Model(2), AcceptsScalars)
    assert type(a) is type(b)
    assert with_mixin(a, AcceptsScalars) is a and type(a).__mro__.count(AcceptsScalars) == 1

