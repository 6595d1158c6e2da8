/* listener: placeholder until implemented */
