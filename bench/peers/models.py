"""The benchmark's models, trained in whatever environment imports this module."""
from sklearn import datasets, svm
from sklearn.ensemble import RandomForestClassifier

MODELS = ("rf", "svc")


def train(kind):
    iris = datasets.load_iris()
    if kind == "rf":
        clf = RandomForestClassifier(n_estimators=100, random_state=0)
    elif kind == "svc":
        clf = svm.SVC(gamma='scale')
    else:
        raise ValueError(kind)
    clf.fit(iris.data, iris.target)
    return clf
