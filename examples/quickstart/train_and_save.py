"""Train the spec's iris SVC, pack it into IrisClassifier and save it; prints the bundle path."""
from sklearn import datasets, svm

from iris_classifier import IrisClassifier

clf = svm.SVC(gamma='scale')
iris = datasets.load_iris()
X, y = iris.data, iris.target
clf.fit(X, y)

# Create a iris classifier service with the newly trained model
iris_classifier_service = IrisClassifier()
iris_classifier_service.pack("model", clf)

# Test invoking BentoService instance
print("in-process prediction:", iris_classifier_service.predict([[5.1, 3.5, 1.4, 0.2]]))

# Save the entire prediction service to file bundle
saved_path = iris_classifier_service.save()
print(saved_path)
