/* route: placeholder until implemented */
