def load(bento):
    raise NotImplementedError

def load_from_dir(path):
    raise NotImplementedError
