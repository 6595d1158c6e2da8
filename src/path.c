/* path: placeholder until implemented */
