/* worker: placeholder until implemented */
