/* rng: placeholder until implemented */
