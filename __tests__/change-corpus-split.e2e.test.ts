import { changeCorpus } from "./helpers/change-corpus";

/** The corpus of fleet changes (helpers/change-corpus.ts) reviewed with `layout: split`: every verdict the corpus's. */
changeCorpus("split");
